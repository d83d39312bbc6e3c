"""Imports of any size (issue 17.6): chunked under an import id, resumable after a failure with
nothing applied twice, an exact report, and over HTTP a 202 with a status route when the import
goes on in the background."""

import json

import boto3
import pytest

from chalicelib.core.settings import forget_settings
from chalicelib.storage import imports as stored
from chalicelib.storage.transactions import StorageUnavailable
from tests.api.conftest import ADMIN
from tools.cli import main

CSV = {**ADMIN, "Content-Type": "text/csv"}


def people(n: int, start: int = 0) -> str:
    return "email\n" + "".join(f"person{i:05d}@example.com\n" for i in range(start, start + n))


def consent_events_of(api, email: str) -> list[dict]:
    sid = api.admin("POST", "/v1/subscribers/find", {"email": email}).json_body["subscriber_id"]
    return [e for e in api.events(sid) if e["list_id"] == "newsletter"]


def test_a_failure_midway_says_what_was_applied_and_a_resume_applies_nothing_twice(api, tmp_path, monkeypatch, capsys):
    """Given a CSV of 160 rows (a bad address and a person who unsubscribed before among them),
    when storage fails on the fourth chunk, the CLI exits 3 saying exactly what it applied and how
    to resume; running the same command again finishes it, each person subscribed once."""
    api.http.post(api.link("bob@example.com"), headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"")
    file = tmp_path / "people.csv"
    file.write_text(people(150) + "not-an-address\nbob@example.com\nalice@example.com\n" + people(7, 150)[6:])
    real, calls = stored.commit_chunk, []

    def failing_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise StorageUnavailable()
        return real(*args, **kwargs)

    monkeypatch.setattr(stored, "commit_chunk", failing_on_the_fourth)
    capsys.readouterr()  # what the API calls above logged
    with pytest.raises(SystemExit) as stopped:
        main(["import", "newsletter", str(file)])
    assert stopped.value.code == 3
    out, err = capsys.readouterr()
    partial = json.loads(out)
    import_id = partial["import_id"]
    assert partial["status"] == "stopped" and partial["rows_done"] == 75
    assert partial["counts"] == {"applied": 75, "already_there": 0, "refused": 0}
    assert "rows up to line 76 are done" in err and "applied 75, already there 0, refused 0" in err
    assert f"--import-id {import_id}" in err and "unavailable" in err
    assert [bool(consent_events_of(api, f"person{i:05d}@example.com")) for i in (74, 75)] == [True, False]

    monkeypatch.setattr(stored, "commit_chunk", real)
    assert main(["import", "newsletter", str(file), "--import-id", import_id]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "done" and report["rows"] == report["rows_done"] == 160
    assert report["counts"] == {"applied": 157, "already_there": 1, "refused": 2}
    assert report["refused_rows"] == [
        {"line": 152, "reason": "bad_email", "detail": "not a valid email address"},
        {"line": 153, "reason": "previously_unsubscribed", "detail": "unsubscribed before: only they can come back"},
    ]
    for i in (0, 74, 75, 156):
        assert [e["action"] for e in consent_events_of(api, f"person{i:05d}@example.com")] == ["subscribe"]
    assert not api.allowed("bob@example.com")["allowed"]

    # The same file a third time: nothing to do, the same report.
    assert main(["import", "newsletter", str(file)]) == 0
    assert json.loads(capsys.readouterr().out)["counts"] == report["counts"]


def test_an_import_id_resumed_with_another_file_is_refused(api):
    first = api.http.post("/v1/lists/newsletter/imports?import_id=spring", headers=CSV, body=people(3).encode())
    assert first.status_code == 200 and first.json_body["counts"]["applied"] == 3
    other = api.http.post("/v1/lists/newsletter/imports?import_id=spring", headers=CSV, body=people(4).encode())
    assert other.status_code == 409 and other.json_body["error"] == "import_id_taken"


def test_duplicates_in_the_file_are_refused_with_the_line_they_repeat(api):
    body = b"Email Address;Name\nCarol@Example.com;C\ncarol@example.com;C again\n"
    report = api.http.post("/v1/lists/newsletter/imports", headers=CSV, body=body).json_body
    assert report["counts"] == {"applied": 1, "already_there": 0, "refused": 1}
    assert report["refused_rows"] == [{"line": 3, "reason": "duplicate", "detail": "the same address as line 2"}]


@pytest.fixture
def unsubscribe_queue(monkeypatch):
    url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="offboard-dev-unsubscribes")["QueueUrl"]
    monkeypatch.setenv("UNSUBSCRIBE_QUEUE_URL", url)
    forget_settings()
    yield url
    forget_settings()


def work_the_queue(client, url: str) -> int:
    """What Lambda's SQS event source does: each message to the unsubscribe queue's function."""
    sqs, delivered = boto3.client("sqs", region_name="us-east-1"), 0
    for _ in range(20):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            break
        for message in messages:
            event = client.events.generate_sqs_event([message["Body"]], queue_name="offboard-dev-unsubscribes")
            client.lambda_.invoke("deferred_unsubscribe", event)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            delivered += 1
    return delivered


@pytest.mark.parametrize("how", ["out of time", "asked"])
def test_an_import_that_cannot_finish_in_the_request_answers_202_and_goes_on_in_the_background(
    api, unsubscribe_queue, monkeypatch, how
):
    from chalice.test import Client

    from app import app
    from chalicelib.unsubscribe import imports

    headers = dict(CSV)
    if how == "asked":
        headers["Prefer"] = "respond-async"
    else:
        monkeypatch.setattr(imports, "REQUEST_SECONDS", 0)
    body = (people(120) + "broken\n" * 130).encode()
    accepted = api.http.post("/v1/lists/newsletter/imports?import_id=big", headers=headers, body=body)
    assert accepted.status_code == 202
    location = accepted.headers["Location"]
    assert location.endswith("/v1/lists/newsletter/imports/big")
    assert accepted.json_body["status"] == "running" and accepted.json_body["rows"] == 250
    path = location[location.index("/v1/") :]
    assert api.admin("GET", path).json_body["status"] == "running"

    with Client(app) as client:
        assert work_the_queue(client, unsubscribe_queue) >= 1

    page = api.admin("GET", path).json_body
    assert page["status"] == "done" and page["counts"] == {"applied": 120, "already_there": 0, "refused": 130}
    assert [r["line"] for r in page["refused_rows"]] == list(range(122, 222))
    assert page["refused_rows_after"] == 221
    rest = api.admin("GET", f"{path}?after=221&limit=1000").json_body
    assert [r["line"] for r in rest["refused_rows"]] == list(range(222, 252)) and rest["refused_rows_after"] is None
    assert api.allowed("person00119@example.com")["allowed"]


def test_a_background_run_out_of_time_queues_the_rest(api, unsubscribe_queue, monkeypatch):
    from chalicelib.unsubscribe import imports

    monkeypatch.setattr(imports, "REQUEST_SECONDS", 0)
    response = api.http.post("/v1/lists/newsletter/imports?import_id=slow", headers=CSV, body=people(60).encode())
    assert response.status_code == 202
    message = {"kind": "import", "list_id": "newsletter", "import_id": "slow"}
    monkeypatch.setattr(imports, "BACKGROUND_MARGIN_SECONDS", 0)
    state = imports.work(message, lambda: 0)  # no time left: nothing done, the rest queued
    assert state.next_row == 0 and state.status == "running"
    sqs = boto3.client("sqs", region_name="us-east-1")
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=unsubscribe_queue, MaxNumberOfMessages=10)["Messages"]
    ]
    assert bodies == [message, message]
    assert imports.work(message, lambda: 60_000).status == "done"
    assert imports.work(message, lambda: 60_000).applied == 60  # delivered again: nothing more


def test_an_unknown_import_is_a_404_and_a_bad_page_a_400(api):
    assert api.admin("GET", "/v1/lists/newsletter/imports/nope").status_code == 404
    api.http.post("/v1/lists/newsletter/imports?import_id=x", headers=CSV, body=people(1).encode())
    assert api.admin("GET", "/v1/lists/newsletter/imports/x?limit=0").status_code == 400


def _written(sid: str, list_id: str) -> tuple[dict, dict]:
    from chalicelib.storage.subscribers import get_profile, get_subscription

    moving = ("last_event", "subscribed_at", "created_at")
    subscription = {k: v for k, v in get_subscription(sid, list_id).attribute_values.items() if k not in moving}
    profile = {k: v for k, v in get_profile(sid).attribute_values.items() if k not in moving}
    return subscription, profile


def test_an_import_writes_what_adding_one_subscriber_writes(api):
    """The import writes a first subscription and profile as puts (moto is slow with update
    expressions); the items are the ones the one-at-a-time subscribe writes."""
    from chalicelib.storage.subscribers import consent_events
    from chalicelib.unsubscribe import admin

    api.admin("POST", "/v1/lists", {"list_id": "twin", "name": "Twin"})
    one = admin.add_subscriber("twin", "one@example.com")["subscriber_id"]
    api.http.post("/v1/lists/twin/imports", headers=CSV, body=b"email\ntwo@example.com\n")
    two = api.admin("POST", "/v1/subscribers/find", {"email": "two@example.com"}).json_body["subscriber_id"]
    (sub_one, profile_one), (sub_two, profile_two) = _written(one, "twin"), _written(two, "twin")
    assert {**sub_one, "pk": "", "email": "", "sunset_due": sub_one["sunset_due"][:10]} == {
        **sub_two,
        "pk": "",
        "email": "",
        "sunset_due": sub_two["sunset_due"][:10],
    }
    assert {**profile_one, "pk": "", "email": ""} == {**profile_two, "pk": "", "email": ""}
    [event] = consent_events(two)
    assert (event.action, event.list_id, event.source) == ("subscribe", "twin", "import")
    # An existing profile (alice is on other lists) is updated, not replaced.
    api.http.post("/v1/lists/twin/imports", headers=CSV, body=b"email\nalice@example.com\n")
    alice = api.admin("POST", "/v1/subscribers/find", {"email": "alice@example.com"}).json_body["subscriber_id"]
    assert {s["list_id"] for s in api.admin("GET", f"/v1/subscribers/{alice}").json_body["subscriptions"]} == {
        "newsletter",
        "promo",
        "twin",
    }


def test_someone_who_unsubscribes_between_the_read_and_the_write_is_not_subscribed_again(api, monkeypatch):
    """The chunk was planned from what was read (not subscribed: subscribe them); they joined and
    left before it was written: the transaction's condition fails, the chunk is planned again from
    the item as it is now, and the row is refused, as the domain's rule says."""
    from chalicelib.unsubscribe import admin

    real = stored.subscription_states

    def read_then_dora_joins_and_leaves(list_id, sids):
        states = real(list_id, sids)
        assert api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "dora@example.com"}).status_code == 201
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        api.http.post(api.link("dora@example.com"), headers=form, body=b"")
        return states

    monkeypatch.setattr(stored, "subscription_states", read_then_dora_joins_and_leaves)
    report = admin.import_csv("newsletter", "email\ncarl@example.com\ndora@example.com\n")
    assert report["counts"] == {"applied": 1, "already_there": 0, "refused": 1}
    assert [(r["line"], r["reason"]) for r in report["refused_rows"]] == [(3, "previously_unsubscribed")]
    assert not api.allowed("dora@example.com")["allowed"] and api.allowed("carl@example.com")["allowed"]


def test_a_profile_created_between_the_read_and_the_write_is_kept_and_updated(api, monkeypatch):
    """Read without a profile (so its first profile would be a put); they joined another list
    meanwhile: the put's condition fails, the chunk is written again updating the profile, which
    keeps the time it was first created."""
    from chalicelib.storage.subscribers import get_profile
    from chalicelib.unsubscribe import admin

    real = stored.subscription_states

    def read_then_erin_joins_promo(list_id, sids):
        found = real(list_id, sids)
        assert api.admin("POST", "/v1/lists/promo/subscribers", {"email": "erin@example.com"}).status_code == 201
        return found

    monkeypatch.setattr(stored, "subscription_states", read_then_erin_joins_promo)
    report = admin.import_csv("newsletter", "email\nerin@example.com\n")
    assert report["counts"] == {"applied": 1, "already_there": 0, "refused": 0}
    erin = api.admin("POST", "/v1/subscribers/find", {"email": "erin@example.com"}).json_body["subscriber_id"]
    lists_of_erin = api.admin("GET", f"/v1/subscribers/{erin}").json_body["subscriptions"]
    assert sorted(s["list_id"] for s in lists_of_erin) == ["newsletter", "promo"]
    promo_joined = next(s for s in lists_of_erin if s["list_id"] == "promo")["subscribed_at"]
    assert str(get_profile(erin).created_at) == promo_joined


def test_someone_who_stopped_everything_is_refused_by_an_import_into_any_list(api, monkeypatch):
    """Stopping everything covers the lists to come: an import into a list they never joined
    refuses the row (read before, or stopped between the read and the write), as subscribing
    one by one does, and send-check says opted_out_all."""
    from chalicelib.unsubscribe import admin

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for email in ("gail@example.com", "hank@example.com"):
        assert api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": email}).status_code == 201
    assert api.http.post(api.link("gail@example.com"), headers=form, body=b"choice=all").status_code == 303
    real = stored.subscription_states

    def read_then_hank_stops_everything(list_id, sids):
        found = real(list_id, sids)
        assert api.http.post(api.link("hank@example.com"), headers=form, body=b"choice=all").status_code == 303
        return found

    monkeypatch.setattr(stored, "subscription_states", read_then_hank_stops_everything)
    report = admin.import_csv("promo", "email\ngail@example.com\nhank@example.com\nivy@example.com\n")
    assert report["counts"] == {"applied": 1, "already_there": 0, "refused": 2}
    assert [(r["line"], r["reason"]) for r in report["refused_rows"]] == [
        (2, "opted_out_everywhere"),
        (3, "opted_out_everywhere"),
    ]
    assert api.allowed("gail@example.com", "promo")["reason"] == "opted_out_all"
    assert api.allowed("hank@example.com", "promo")["reason"] == "opted_out_all"
    assert api.allowed("ivy@example.com", "promo")["allowed"]


def test_someone_who_stopped_every_list_is_refused_by_name_on_a_list_they_never_joined(api):
    """The domain's rule (`plan_subscribe` with the profile read in the same batch): stopping
    everything covers the lists to come, so an import refuses them with its own reason."""
    from datetime import UTC, datetime

    from chalicelib.domain.consent import AuditContext
    from chalicelib.storage.subscribers import unsubscribe_all
    from chalicelib.unsubscribe import admin

    sid = api.admin("POST", "/v1/subscribers/find", {"email": "alice@example.com"}).json_body["subscriber_id"]
    unsubscribe_all(sid, AuditContext("api"), datetime.now(UTC))
    api.admin("POST", "/v1/lists", {"list_id": "later", "name": "Later"})
    report = admin.import_csv("later", "email\nalice@example.com\nfrank@example.com\n")
    assert report["counts"] == {"applied": 1, "already_there": 0, "refused": 1}
    assert [(r["line"], r["reason"]) for r in report["refused_rows"]] == [(2, "opted_out_everywhere")]
    assert not api.allowed("alice@example.com", "later")["allowed"]


def test_the_cli_refuses_an_import_id_of_another_file_without_claiming_a_stopped_import(api, tmp_path, capsys):
    """Nothing of this file was applied: a clear refusal (exit 2), no traceback, no "resume"."""
    first = api.http.post("/v1/lists/newsletter/imports?import_id=autumn", headers=CSV, body=people(40).encode())
    assert first.status_code == 200
    file = tmp_path / "other.csv"
    file.write_text(people(2))
    capsys.readouterr()
    with pytest.raises(SystemExit) as refused:
        main(["import", "newsletter", str(file), "--import-id", "autumn"])
    code = refused.value.code
    out, err = capsys.readouterr()
    assert code == 2 and "import_id_taken" in err and "Traceback" not in err and "Resume" not in err
