"""The hosted page's clicks cost one DynamoDB round trip (the page's sealed ticket replaces the
read; a lost race gets the winner back from the failed condition), a forged or stale ticket never
decides anything, and a refused link is never a dead end: "Email me a new link" asks the
business, by webhook, to mail a new one, rate-limited, with no personal data in any URL."""

import re
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import botocore.endpoint
import pytest

from chalicelib.domain import cancel as rules
from chalicelib.storage import cancel as store
from tests.api.test_cancel_api import FORM, click, find_subscription_with_arm, open_session, page
from tests.moto_atomic import atomic_dynamodb  # noqa: F401  (fixture)


@pytest.fixture
def round_trips(monkeypatch):
    """Counts DynamoDB (and any AWS) API calls the code makes."""
    calls = []
    original = botocore.endpoint.Endpoint.make_request

    def counting(endpoint, operation_model, request_dict):
        calls.append(operation_model.name)
        return original(endpoint, operation_model, request_dict)

    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", counting)
    return calls


def ticket_of(response) -> str:
    return re.search(r'name="ticket" value="([^"]+)"', page(response)).group(1)


def events_of(session_id: str) -> list[dict]:
    future = datetime.now(UTC) + timedelta(hours=3)
    return [m["event"] for m in store.outbox_older_than(future) if m["session_id"] == session_id]


def offer_shown(api):
    subscription = find_subscription_with_arm(api, "too_expensive", want_offer=True)
    session_id, path = open_session(api, subscription_id=subscription)
    landing = api.http.get(path)
    offer = click(api, path, action="continue", reason="too_expensive", ticket=ticket_of(landing))
    assert 'data-role="accept"' in page(offer)
    return session_id, path, offer


def test_each_click_with_the_pages_ticket_is_one_round_trip(api, round_trips):
    subscription = find_subscription_with_arm(api, "too_expensive", want_offer=True)
    session_id, path = open_session(api, subscription_id=subscription)
    round_trips.clear()
    landing = api.http.get(path)
    assert round_trips == ["GetItem"]
    round_trips.clear()
    offer = click(api, path, action="continue", reason="too_expensive", comment="pricey", ticket=ticket_of(landing))
    assert round_trips == ["TransactWriteItems"] and "25% off" in page(offer)
    round_trips.clear()
    saved = click(api, path, action="accept", offer_id="discount-25-3", ticket=ticket_of(offer))
    assert round_trips == ["TransactWriteItems"] and "Done: 25% off" in page(saved)
    session = store.load_session(session_id)
    assert (session.status, session.answer.comment, session.version) == ("saved", "pricey", 2)


def test_a_stale_ticket_is_planned_again_on_the_winner_without_a_read(api, round_trips):
    session_id, path, offer = offer_shown(api)
    stale = ticket_of(offer)
    assert "is cancelled" in page(click(api, path, action="cancel", ticket=stale))
    round_trips.clear()
    late = click(api, path, action="accept", offer_id="discount-25-3", ticket=stale)
    # The write on the stale version failed and handed back the cancelled session: settled.
    assert round_trips == ["TransactWriteItems"]
    assert "is cancelled" in page(late) and "Done: 25%" not in page(late)
    assert store.load_session(session_id).status == "cancelled" and store.load_session(session_id).version == 2


def test_a_forged_or_foreign_ticket_is_ignored(api):
    session_id, path, offer = offer_shown(api)
    ticket = ticket_of(offer)
    key_id, payload, signature = ticket.split(".")
    forged = f"{key_id}.{payload[:-4]}AAAA.{signature}"
    # A forged ticket cannot pretend the offer was never shown (or anything else): the session is read.
    response = click(api, path, action="accept", offer_id="discount-25-3", ticket=forged)
    assert "Done: 25% off" in page(response)
    other_id, other_path = open_session(api, subscription_id="sub_other")
    foreign = click(api, other_path, action="cancel", ticket=ticket)  # sealed for the first session
    assert "is cancelled" in page(foreign)
    assert store.load_session(other_id).status == "cancelled"
    assert store.load_session(session_id).status == "saved"


def test_a_ticket_sealed_before_erasure_never_writes_the_person_back(api):
    session_id, path = open_session(api)
    ticket = ticket_of(api.http.get(path))
    assert api.admin("DELETE", "/v1/cancel-customers/acme/cus_123/records").status_code == 200
    click(api, path, action="cancel", ticket=ticket)
    session = store.load_session(session_id)
    assert session.status == "cancelled" and session.request.customer_id == "erased"


@pytest.mark.usefixtures("atomic_dynamodb")
def test_twenty_simultaneous_clicks_with_the_same_ticket_make_one_outcome_and_one_webhook(api):
    session_id, path, offer = offer_shown(api)
    ticket, outcomes, start = ticket_of(offer), [], threading.Barrier(20)

    def worker(n):
        start.wait()
        fields = {"action": "accept", "offer_id": "discount-25-3"} if n % 2 else {"action": "cancel"}
        response = click(api, path, ticket=ticket, **fields)
        outcomes.append((response.status_code, "Done: 25%" in page(response), "is cancelled" in page(response)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session = store.load_session(session_id)
    assert all(status == 200 for status, _, _ in outcomes) and len(outcomes) == 20
    saved = session.status == "saved"
    assert all((s, c) == (saved, not saved) for _, s, c in outcomes)
    assert session.version == 2
    assert sorted(e["type"] for e in events_of(session_id)) == ["cancel_session.completed", "cancel_session.started"]
    report = api.admin("GET", "/v1/cancel-flows/acme/report").json_body
    arm = report["reasons"]["too_expensive"]["arms"]["discount-25-3"]
    assert (arm["sessions"], arm["saved"] + arm["cancelled"]) == (1, 1)


def new_link_form(response) -> str:
    return re.search(r'action="(/cancel/new-link/[^"]+)"', page(response)).group(1)


def test_an_expired_link_still_lets_the_person_cancel_by_asking_for_a_new_link(api, monkeypatch):
    from chalicelib.cancel import routes

    session_id, path = open_session(api)
    later = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr(routes, "_now", lambda: later)
    expired = api.http.get(path)
    assert expired.status_code == 410 and "Email me a new link" in page(expired)
    action = new_link_form(expired)
    assert "cus_123" not in action and "sub_456" not in action and "acme" not in action
    sent = api.http.request("POST", action, headers=FORM, body=b"")
    assert sent.status_code == 202 and "asked the business to email you a new cancellation link" in page(sent)
    again = api.http.request("POST", action, headers=FORM, body=b"")
    assert again.status_code == 429 and "check your email" in page(again)
    requested = [e for e in events_of(session_id) if e["type"] == "cancel_session.link_requested"]
    assert len(requested) == 1
    assert requested[0]["data"]["object"]["customer_id"] == "cus_123"  # the business knows whom to mail
    assert store.load_session(session_id).status == "open"
    # After the interval the person may ask again, up to the limit; each request is its own event.
    for n in range(1, 8):
        moment = later + n * (rules.NEW_LINK_INTERVAL + timedelta(seconds=1))
        monkeypatch.setattr(routes, "_now", lambda moment=moment: moment)
        api.http.request("POST", action, headers=FORM, body=b"")
    requested = [e for e in events_of(session_id) if e["type"] == "cancel_session.link_requested"]
    assert len(requested) == rules.NEW_LINK_MOST and len({e["id"] for e in requested}) == rules.NEW_LINK_MOST


def test_a_tampered_link_offers_a_new_link_and_garbage_gets_a_way_back_without_writing(api):
    session_id, path = open_session(api)
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    refused = api.http.get(tampered)
    assert refused.status_code == 400 and "Email me a new link" in page(refused)
    assert api.http.request("POST", new_link_form(refused), headers=FORM, body=b"").status_code == 202
    garbage = api.http.get("/cancel/not-a-link")
    assert garbage.status_code == 400 and "new-link" not in page(garbage)
    unknown = api.http.request("POST", "/cancel/new-link/k1.nosuchsession.99.x", headers=FORM, body=b"")
    assert unknown.status_code == 404 and "Start again from your account page" in page(unknown)
    assert [e["type"] for e in events_of(session_id)].count("cancel_session.link_requested") == 1


def test_a_finished_session_that_was_kept_still_offers_a_way_to_cancel(api):
    session_id, path, offer = offer_shown(api)
    saved = click(api, path, action="accept", offer_id="discount-25-3", ticket=ticket_of(offer))
    assert "Want to cancel after all?" in page(saved)
    replay = api.http.get(path)
    assert replay.status_code == 200 and "Email me a new link" in page(replay)
    assert api.http.request("POST", new_link_form(replay), headers=FORM, body=urlencode({}).encode()).status_code == 202


def test_the_new_link_pages_speak_thai(api, monkeypatch):
    from chalicelib.cancel import routes

    _, path = open_session(api, subscription_id="sub_thai", locale="th")
    later = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr(routes, "_now", lambda: later)
    expired = api.http.get(path)
    assert 'lang="th"' in page(expired) and "ส่งลิงก์ใหม่ทางอีเมล" in page(expired)
    sent = api.http.request("POST", new_link_form(expired), headers=FORM, body=b"")
    assert sent.status_code == 202 and "เราขอให้ธุรกิจส่งลิงก์ยกเลิกใหม่" in page(sent)
