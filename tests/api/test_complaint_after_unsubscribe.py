"""Issue 16, item 1: a spam complaint always suppresses. The usual order is an unsubscribe first
(the person left every list) and the feedback-loop report after it; the complaint must still
record "never mail again", so an import into a list created later is refused at send-check.
Tried through each door a complaint comes in by: SNS, EventBridge and the signed webhook, with
AWS's published record shapes (tests/fixtures/ses)."""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from chalice.test import Client

from app import app
from chalicelib.core.ids import subscriber_id_for
from chalicelib.storage import subscribers
from tests.helpers import eventbridge_event, sns_message

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SECRET = "dev-only-webhook-secret-not-secret"  # the dev stage's, which chalice.test.Client sets per request
ADDRESS = "recipient@example.com"  # the address in the fixtures' complainedRecipients


def _by_sns(client, sid):
    client.lambda_.invoke("ses_event_from_sns", client.events.generate_sns_event(message=sns_message("complaint", sid)))


def _by_eventbridge(client, sid):
    client.lambda_.invoke("ses_event_from_eventbridge", eventbridge_event("complaint", sid))


def _by_webhook(client, sid):
    body = json.dumps({"events": [{"type": "complaint", "email": ADDRESS, "at": datetime.now(UTC).isoformat()}]})
    at = int(time.time())
    signature = "sha256=" + hmac.new(SECRET.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Offboard-Timestamp": str(at), "X-Offboard-Signature": signature}
    response = client.http.post("/v1/engagement", headers=headers, body=body.encode())
    assert response.status_code == 202 and set(response.json_body["outcomes"]) <= {"complaint", "complaint_already"}


DOORS = {"sns": _by_sns, "eventbridge": _by_eventbridge, "webhook": _by_webhook}


@pytest.mark.parametrize("door", DOORS)
def test_a_complaint_after_leaving_every_list_still_refuses_a_list_created_later(api, settings, door):
    sid = subscriber_id_for(settings.subscriber_id_key, ADDRESS)
    for list_id in ("newsletter", "promo"):
        api.admin("POST", f"/v1/lists/{list_id}/subscribers", {"email": ADDRESS})
        link = api.link(ADDRESS, list_id)
        assert api.http.post(link, headers=FORM, body=b"List-Unsubscribe=One-Click").status_code == 200
    assert {s.status for s in subscribers.subscriptions_of(sid)} == {"unsubscribed"}

    with Client(app) as client:
        DOORS[door](client, sid)
        DOORS[door](client, sid)  # delivered twice (at least once): recorded once

    assert subscribers.get_profile(sid).opted_out_all is True
    complaints = [e for e in api.events(sid) if e["source"] == "complaint"]
    assert [(e["action"], e["list_id"], e["lists"]) for e in complaints] == [("unsubscribe_all", "*", [])]
    api.admin("POST", "/v1/lists", {"list_id": "later", "name": "Created after the complaint"})
    imported = api.http.request(
        "POST",
        "/v1/lists/later/imports",
        headers={"X-Api-Key": "dev-admin-key", "Content-Type": "text/csv"},
        body=f"email\n{ADDRESS}\n".encode(),
    )
    assert imported.status_code == 200
    assert api.allowed(ADDRESS, "later") == {
        "email": ADDRESS,
        "subscriber_id": sid,
        "frequency": None,
        "allowed": False,
        "reason": "opted_out_all",
    }


@pytest.mark.parametrize("door", DOORS)
def test_a_complaint_from_a_member_stops_every_list_and_the_lists_to_come(api, settings, door):
    sid = subscriber_id_for(settings.subscriber_id_key, ADDRESS)
    for list_id in ("newsletter", "promo"):
        api.admin("POST", f"/v1/lists/{list_id}/subscribers", {"email": ADDRESS})
    with Client(app) as client:
        DOORS[door](client, sid)
    assert {s.status for s in subscribers.subscriptions_of(sid)} == {"unsubscribed"}
    assert subscribers.members_of("newsletter") == 2 and subscribers.members_of("promo") == 2  # alice and bob
    api.admin("POST", "/v1/lists", {"list_id": "later", "name": "Created after the complaint"})
    api.admin("POST", "/v1/lists/later/subscribers", {"email": ADDRESS})
    assert api.allowed(ADDRESS, "later")["reason"] == "opted_out_all"


@pytest.mark.parametrize("door", DOORS)
def test_a_complaint_cannot_be_undone_from_the_persons_confirmation_page(api, settings, door):
    """The undo on the confirmation page reverses the person's own choice; a complaint (a
    mailbox provider's report) holds even for someone who holds the link and the event id."""
    sid = subscriber_id_for(settings.subscriber_id_key, ADDRESS)
    api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": ADDRESS})
    with Client(app) as client:
        DOORS[door](client, sid)
    [complaint] = [e for e in api.events(sid) if e["source"] == "complaint"]
    link, event = api.link(ADDRESS), f"EVENT#{complaint['event_id']}"

    page = api.http.get(f"{link}/done?event={quote(event)}")
    assert page.status_code == 200 and f'{link}/undo"'.encode() not in page.body
    undo = api.http.post(f"{link}/undo", headers=FORM, body=f"event={quote(event)}".encode())
    assert undo.status_code == 409
    assert subscribers.get_profile(sid).opted_out_all is True
    assert api.allowed(ADDRESS)["reason"] == "opted_out_all"
    assert [e["action"] for e in api.events(sid)].count("resubscribe") == 0


def test_undoing_ones_own_unsubscribe_after_a_complaint_is_refused(api, settings):
    """The person left one list from the page, then a complaint opted them out of everything:
    undoing the page's choice would show "subscribed again" while send-check refuses."""
    sid = subscriber_id_for(settings.subscriber_id_key, ADDRESS)
    api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": ADDRESS})
    link = api.link(ADDRESS)
    left = api.http.post(link, headers=FORM, body=b"choice=list")
    assert left.status_code == 303
    [own] = [e for e in api.events(sid) if e["source"] == "page"]
    with Client(app) as client:
        _by_webhook(client, sid)
    undo = api.http.post(f"{link}/undo", headers=FORM, body=f"event={quote('EVENT#' + own['event_id'])}".encode())
    assert undo.status_code == 409
    assert "resubscribe" not in [e["action"] for e in api.events(sid)]
    assert api.allowed(ADDRESS)["reason"] == "opted_out_all"
