"""Sunset and engagement through the service's own entry points: the keep-me-subscribed pages,
the signed webhook, the SNS and EventBridge handlers, the admin reports, and the real email."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from email import message_from_string
from urllib.parse import urlsplit

import boto3
import pytest
from chalice.test import Client

from app import app
from chalicelib.core.ids import subscriber_id_for
from chalicelib.storage import subscribers
from chalicelib.storage.subscribers import AuditContext
from chalicelib.sunset import job as sunset_job
from tests.api.conftest import ADMIN
from tests.helpers import eventbridge_event, join, sns_message

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SECRET = "dev-only-webhook-secret-not-secret"  # the dev stage's, which chalice.test.Client sets per request


@pytest.fixture
def alice(api, settings):
    return subscriber_id_for(settings.subscriber_id_key, "alice@example.com")


def test_keep_page_get_changes_nothing_and_post_restarts_the_clock(api, alice):
    path = api.link("alice@example.com")
    before = subscribers.get_subscription(alice, "newsletter")
    page = api.http.get(path + "/keep")
    assert page.status_code == 200 and b"Keep me subscribed" in page.body
    assert subscribers.get_subscription(alice, "newsletter").last_engaged_at is None
    kept = api.http.post(path + "/keep", headers=FORM, body=b"")
    assert kept.status_code == 200 and b"You are still subscribed to The Weekly" in kept.body
    after = subscribers.get_subscription(alice, "newsletter")
    assert after.last_engaged_at is not None and after.sunset_due >= before.sunset_due


def test_keep_after_a_sunset_unsubscribe_brings_the_subscriber_back_but_never_after_their_own(api, alice):
    path = api.link("alice@example.com")
    sub = subscribers.get_subscription(alice, "newsletter")
    sub.sunset_state, sub.reminder_sent_at = "pending", datetime.now(UTC) - timedelta(days=20)
    sub.save()
    assert subscribers.sunset_unsubscribe(subscribers.get_subscription(alice, "newsletter"), datetime.now(UTC))
    assert api.http.post(path + "/keep", headers=FORM, body=b"").status_code == 200
    assert api.allowed("alice@example.com")["allowed"] is True

    bob = api.link("bob@example.com")
    api.http.post(bob, headers=FORM, body=b"List-Unsubscribe=One-Click")
    page = api.http.post(bob + "/keep", headers=FORM, body=b"")
    assert b"You are not subscribed" in page.body and api.allowed("bob@example.com")["allowed"] is False


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> dict:
    at = int(time.time()) if at is None else at
    signature = "sha256=" + hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Offboard-Timestamp": str(at), "X-Offboard-Signature": signature}


def test_the_webhook_takes_signed_facts_and_refuses_the_rest(api, alice):
    events = [
        {"type": "click", "email": "alice@example.com", "list_id": "newsletter", "at": datetime.now(UTC).isoformat()},
        {"type": "send", "subscriber_id": alice, "list_id": "promo", "at": "2026-11-22T10:00:00Z", "message_id": "m-1"},
        {"type": "dance", "subscriber_id": alice},
    ]
    body = json.dumps({"events": events}).encode()
    response = api.http.post("/v1/engagement", headers=signed(body), body=body)
    assert response.status_code == 202 and response.json_body["outcomes"] == {
        "engaged": 1,
        "send_counted": 1,
        "malformed": 1,
    }
    assert api.http.post("/v1/engagement", headers=signed(body), body=body).json_body["outcomes"]["send_duplicate"] == 1
    for headers in (
        signed(body, secret="x" * 30),
        signed(body, at=int(time.time()) - 3600),
        {"Content-Type": "application/json"},
    ):
        assert api.http.post("/v1/engagement", headers=headers, body=body).status_code == 401
    empty = json.dumps({"events": []}).encode()
    assert api.http.post("/v1/engagement", headers=signed(empty), body=empty).status_code == 400


def test_ses_records_through_the_sns_and_eventbridge_handlers(api, alice, settings):
    recipient = subscriber_id_for(settings.subscriber_id_key, "recipient@example.com")  # the fixtures' address
    for list_id in ("newsletter", "promo"):
        api.admin("POST", f"/v1/lists/{list_id}/subscribers", {"email": "recipient@example.com"})
    with Client(app) as client:
        client.lambda_.invoke(
            "ses_event_from_sns", client.events.generate_sns_event(message=sns_message("click", alice))
        )
        assert subscribers.get_subscription(alice, "newsletter").last_engaged_at is not None
        client.lambda_.invoke("ses_event_from_eventbridge", eventbridge_event("complaint", recipient))
    assert api.allowed("recipient@example.com")["reason"] == "opted_out_all"
    assert api.allowed("recipient@example.com", "promo")["allowed"] is False
    assert api.allowed("alice@example.com")["allowed"] is True


def test_a_malformed_sns_message_does_not_fail_the_invocation(api):
    with Client(app) as client:
        result = client.lambda_.invoke("ses_event_from_sns", client.events.generate_sns_event(message="{not json"))
    assert result.payload is None


def test_the_re_permission_email_carries_one_click_headers_and_a_keep_button(api, alice):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.sunset.email import send_reminder
    from chalicelib.sunset.job import Reminder

    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="offers@offboard.example")
    send_reminder(Reminder(alice, "alice@example.com", ("newsletter",)))
    [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    message = message_from_string(sent.raw_data)
    assert message["Subject"] == "Do you still want The Weekly?" and message["To"] == "alice@example.com"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    assert url.startswith("https://unsubscribe.example.test/u/k1.") and "alice" not in url
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert f'href="{url}/keep"' in html and "Keep me subscribed" in html


def test_sunset_reports_and_policy_through_the_admin_api(api):
    assert (
        api.admin("PUT", "/v1/lists/newsletter/sunset-policy", {"inactive_days": 90, "grace_days": 7}).json_body[
            "sunset"
        ]["inactive_days"]
        == 90
    )
    assert api.admin("PUT", "/v1/lists/newsletter/sunset-policy", {"inactive_days": 1}).status_code == 400
    assert api.admin("PUT", "/v1/lists/nope/sunset-policy", {}).status_code == 404
    run_id = sunset_job.run_locally(True, lambda record: None)
    listed = api.admin("GET", "/v1/sunset/runs").json_body["runs"]
    assert listed[0]["run_id"] == run_id and listed[0]["dry_run"] is True and listed[0]["status"] == "done"
    assert api.admin("GET", f"/v1/sunset/runs/{run_id}").json_body["run_id"] == run_id
    assert api.admin("GET", "/v1/sunset/runs/nope").status_code == 404
    assert api.http.get("/v1/sunset/runs").status_code == 401


def test_member_counts_survive_the_api_flows(api, alice):
    assert subscribers.members_of("newsletter") == 2
    path = api.link("alice@example.com")
    api.http.post(path, headers=FORM, body=b"")
    assert subscribers.members_of("newsletter") == 1
    join(alice, "alice@example.com", "newsletter", AuditContext("api"), datetime.now(UTC), resubscribe=True)
    assert subscribers.members_of("newsletter") == 2


def test_one_re_permission_email_for_three_lists_and_one_click_keeps_them_all(api, alice, settings):
    """Issue 9.3: a person inactive on three lists gets one email naming the three, with each
    list's own unsubscribe link; one POST to its keep link keeps all three, and nobody else's."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib.sunset.email import send_reminder

    bob = subscriber_id_for(settings.subscriber_id_key, "bob@example.com")
    assert api.admin("POST", "/v1/lists", {"list_id": "digest", "name": "The Digest"}).status_code == 201
    for email in ("alice@example.com", "bob@example.com"):
        assert api.admin("POST", "/v1/lists/digest/subscribers", {"email": email}).status_code == 201
    short = {"inactive_days": 7, "min_sends": 0, "max_share": 1, "max_share_7d": 1, "max_share_30d": 1}
    for list_id in ("newsletter", "promo", "digest"):
        assert api.admin("PUT", f"/v1/lists/{list_id}/sunset-policy", short).status_code == 200
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="offers@offboard.example")
    today = datetime.now(UTC)
    sunset_job.run_locally(False, send_reminder, now=today)  # nobody is due yet
    # They joined under the default policy: first due when its 180 days end (issue 16.11); by
    # then the 7-day policy finds them inactive.
    run_id = sunset_job.run_locally(False, send_reminder, now=today + timedelta(days=181))
    report = api.admin("GET", f"/v1/sunset/runs/{run_id}").json_body
    assert report["outcomes"]["emails_sent"] == 2 and report["outcomes"]["emailed"] == 6

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    by_recipient = {message_from_string(m.raw_data)["To"]: message_from_string(m.raw_data) for m in sent}
    assert len(sent) == 2 and set(by_recipient) == {"alice@example.com", "bob@example.com"}
    message = by_recipient["alice@example.com"]
    assert message["Subject"] == "Do you still want The Digest, The Weekly and Promotions?"
    # RFC 8058: one List-Unsubscribe URI (the first list's) and one List-Unsubscribe-Post.
    assert message.get_all("List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"]
    [header] = message.get_all("List-Unsubscribe")
    assert header.strip("<>").startswith(f"https://unsubscribe.example.test/u/k1.{alice}.digest.sunset.")
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    for list_id, name in (("newsletter", "The Weekly"), ("promo", "Promotions"), ("digest", "The Digest")):
        assert name in html
        assert f'href="https://unsubscribe.example.test/u/k1.{alice}.{list_id}.sunset.' in html  # its own link
    keep = urlsplit(header.strip("<>")).path + "/keep"
    assert f'href="https://unsubscribe.example.test{keep}"' in html

    page = api.http.get(keep)  # a scanner's GET: shows the three lists, changes nothing
    assert page.status_code == 200 and all(n in page.body for n in (b"The Weekly", b"Promotions", b"The Digest"))
    lists_of = ("newsletter", "promo", "digest")
    assert all(subscribers.get_subscription(alice, lst).sunset_state == "pending" for lst in lists_of)
    kept = api.http.post(keep, headers=FORM, body=b"")
    assert kept.status_code == 200 and b"You are still subscribed to these lists" in kept.body
    for list_id in lists_of:
        mine, theirs = subscribers.get_subscription(alice, list_id), subscribers.get_subscription(bob, list_id)
        assert (mine.status, mine.sunset_state) == ("active", None) and mine.last_engaged_at is not None
        assert (theirs.status, theirs.sunset_state) == ("active", "pending") and theirs.last_engaged_at is None


def test_keep_leaves_a_list_the_person_left_meanwhile(api, alice, settings):
    """One of the lists in the email was left by the person's own choice since: the keep button
    keeps the others and never brings that one back."""
    path = api.link("alice@example.com", "promo")
    for list_id in ("newsletter", "promo"):
        sub = subscribers.get_subscription(alice, list_id)
        sub.sunset_state, sub.pending_since = "pending", datetime.now(UTC)
        sub.reminder_sent_at = datetime.now(UTC)
        sub.save()
    assert (
        api.http.post(api.link("alice@example.com"), headers=FORM, body=b"List-Unsubscribe=One-Click").status_code
        == 200
    )
    page = api.http.post(path + "/keep", headers=FORM, body=b"")
    assert page.status_code == 200
    assert subscribers.get_subscription(alice, "newsletter").status == "unsubscribed"
    promo = subscribers.get_subscription(alice, "promo")
    assert (promo.status, promo.sunset_state) == ("active", None)


class DynamoCalls:
    """DynamoDB operations PynamoDB sends, by name."""

    def __init__(self, monkeypatch):
        from collections import Counter

        from pynamodb.connection.base import Connection

        self.calls: Counter = Counter()
        real = Connection._make_api_call

        def counted(connection, operation, kwargs):
            self.calls[operation] += 1
            return real(connection, operation, kwargs)

        monkeypatch.setattr(Connection, "_make_api_call", counted)


def test_new_members_are_due_when_their_window_can_first_end_and_a_braked_list_gets_no_writes(api, monkeypatch):
    """Issue 16.11: imports wrote `sunset_due = now`, so every run rewrote each member who
    joined that day, even on a list the brake had stopped (188 writes). New members are due when
    the list's window can first end; the run that brakes the list writes nothing to it."""
    assert api.admin("POST", "/v1/lists", {"list_id": "weekly", "name": "Weekly"}).status_code == 201
    assert api.admin("PUT", "/v1/lists/weekly/sunset-policy", {"inactive_days": 30}).status_code == 200
    today = datetime.now(UTC)
    long_ago = today - timedelta(days=90)
    inactive = [f"sold{i:02d}" for i in range(20)]  # 20 of 208: over the 5% one run may move
    for sid in inactive:
        due = today - timedelta(days=1)  # engaged long ago; due since yesterday
        subscribers.subscribe(sid, f"{sid}@example.com", "weekly", AuditContext("api"), long_ago, sunset_due=due)
        for m in range(10):
            subscribers.count_send(sid, "weekly", f"{sid}-{m}", long_ago)
    csv = "email\n" + "".join(f"new{i:03d}@example.com\n" for i in range(188))
    dynamo, started = DynamoCalls(monkeypatch), time.monotonic()
    imported = api.http.post(
        "/v1/lists/weekly/imports", headers={**ADMIN, "Content-Type": "text/csv"}, body=csv.encode()
    )
    minutes, calls = int((time.monotonic() - started) // 60), dict(dynamo.calls)
    assert imported.status_code == 200 and imported.json_body["counts"] == {"subscribed": 188}
    assert subscribers.members_of("weekly") == 208
    from chalicelib.core.ids import subscriber_id_for
    from chalicelib.core.settings import get_settings

    key = get_settings().subscriber_id_key
    new = [subscriber_id_for(key, f"new{i:03d}@example.com") for i in range(188)]
    first_day = f"{today + timedelta(days=30):%Y-%m-%d}"
    assert {subscribers.get_subscription(sid, "weekly").sunset_due[:10] for sid in new} == {first_day}
    # One transaction a row, and the list's policy read once a minute (moto is slow: an import of
    # 188 rows can take more than one).
    assert calls["TransactWriteItems"] == 188 and 1 <= calls.get("GetItem", 0) <= 1 + minutes
    assert set(calls) == {"TransactWriteItems", "GetItem"}

    before = {sid: subscribers.get_subscription(sid, "weekly").attribute_values for sid in new + inactive}
    run_id = sunset_job.run_locally(False, lambda record: None, now=today)
    report = api.admin("GET", f"/v1/sunset/runs/{run_id}").json_body
    assert report["braked_lists"] == ["weekly"] and report["per_list"]["weekly"] == {"remind": 20, "unsubscribe": 0}
    assert report["outcomes"]["rescheduled"] == 0 and report["outcomes"]["found"] == 20
    after = {sid: subscribers.get_subscription(sid, "weekly").attribute_values for sid in new + inactive}
    assert after == before


def test_a_member_added_before_a_policy_is_set_is_due_after_the_default_window(api, alice):
    due = subscribers.get_subscription(alice, "newsletter").sunset_due[:10]
    assert due == f"{datetime.now(UTC) + timedelta(days=180):%Y-%m-%d}"


def _grouped_email(api, alice, reminded_at):
    """Alice reminded about three lists in one re-permission email (as the job marks them: the
    same reminder time on each), and that email as SES would send it."""
    from chalicelib.sunset.email import build_reminder

    assert api.admin("POST", "/v1/lists", {"list_id": "digest", "name": "The Digest"}).status_code == 201
    for email in ("alice@example.com", "bob@example.com"):
        assert api.admin("POST", "/v1/lists/digest/subscribers", {"email": email}).status_code == 201
    named = ["digest", "newsletter", "promo"]
    for list_id in named:
        sub = subscribers.get_subscription(alice, list_id)
        sub.sunset_state, sub.pending_since, sub.reminder_sent_at = "pending", reminded_at, reminded_at
        sub.save()
    message = build_reminder(alice, "alice@example.com", named)
    [header] = message.get_all("List-Unsubscribe")
    return named, urlsplit(header.strip("<>")).path


def test_the_one_click_of_a_grouped_re_permission_email_leaves_every_list_it_named(api, alice, settings):
    """Issue 16.12: the mail app's unsubscribe button on the email that asked about three lists
    leaves the three, not only the first; nobody else's, and nothing another email asked."""
    bob = subscriber_id_for(settings.subscriber_id_key, "bob@example.com")
    named, one_click = _grouped_email(api, alice, datetime.now(UTC) - timedelta(days=2))
    response = api.http.post(one_click, headers=FORM, body=b"List-Unsubscribe=One-Click")
    assert response.status_code == 200
    assert {lst: subscribers.get_subscription(alice, lst).status for lst in named} == dict.fromkeys(
        named, "unsubscribed"
    )
    assert all(subscribers.get_subscription(bob, lst).status == "active" for lst in named)
    left = [e for e in api.events(alice) if e["action"] == "unsubscribe"]
    assert sorted(e["list_id"] for e in left) == named and {e["source"] for e in left} == {"one-click"}
    again = api.http.post(one_click, headers=FORM, body=b"List-Unsubscribe=One-Click")  # a double click
    assert again.status_code == 200 and len([e for e in api.events(alice) if e["action"] == "unsubscribe"]) == 3


def test_a_newsletters_one_click_while_a_re_permission_email_is_pending_leaves_that_list_only(api, alice):
    named, _ = _grouped_email(api, alice, datetime.now(UTC) - timedelta(days=2))
    assert api.http.post(api.link("alice@example.com"), headers=FORM, body=b"").status_code == 200
    assert [subscribers.get_subscription(alice, lst).status for lst in named] == ["active", "unsubscribed", "active"]


def test_keep_after_the_grace_period_brings_back_every_list_the_email_named(api, alice, settings):
    """Issue 16.12: the job unsubscribed the three lists when the grace period ended; the email's
    "keep me" button, clicked late, brings back all three (it promised to keep them all)."""
    bob = subscriber_id_for(settings.subscriber_id_key, "bob@example.com")
    named, one_click = _grouped_email(api, alice, datetime.now(UTC) - timedelta(days=20))
    now = datetime.now(UTC)
    for list_id in named:
        assert subscribers.sunset_unsubscribe(subscribers.get_subscription(alice, list_id), now)
    members = {lst: subscribers.members_of(lst) for lst in named}
    page = api.http.post(one_click + "/keep", headers=FORM, body=b"")
    assert page.status_code == 200 and all(n in page.body for n in (b"The Weekly", b"Promotions", b"The Digest"))
    for list_id in named:
        mine = subscribers.get_subscription(alice, list_id)
        assert (mine.status, mine.sunset_state, mine.reminder_sent_at) == ("active", None, None)
        assert mine.sunset_due[:10] > f"{now:%Y-%m-%d}" and subscribers.members_of(list_id) == members[list_id] + 1
        assert subscribers.get_subscription(bob, list_id).status == "active"
    assert api.allowed("alice@example.com", "promo")["allowed"] is True
    # a second click changes nothing more
    assert api.http.post(one_click + "/keep", headers=FORM, body=b"").status_code == 200
    assert len([e for e in api.events(alice) if e["action"] == "resubscribe"]) == 3


def test_keep_after_the_grace_period_never_overrides_the_persons_own_choice(api, alice):
    named, one_click = _grouped_email(api, alice, datetime.now(UTC) - timedelta(days=20))
    now = datetime.now(UTC)
    for list_id in named:
        assert subscribers.sunset_unsubscribe(subscribers.get_subscription(alice, list_id), now)
    subscribers.unsubscribe_all(alice, AuditContext("page"), now)  # then they stopped everything
    assert api.http.post(one_click + "/keep", headers=FORM, body=b"").status_code == 200
    assert all(subscribers.get_subscription(alice, lst).status == "unsubscribed" for lst in named)
    assert api.allowed("alice@example.com")["reason"] == "opted_out_all"
