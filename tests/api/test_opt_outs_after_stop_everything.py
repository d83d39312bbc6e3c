"""Outside finding F9: an opt-out that arrives while the person's own "stop everything" holds
is recorded, so the Undo of that stop-everything cannot take it away. A complaint or SES's
unsubscribe-all makes that Undo stale (409, as after a single-list unsubscribe); a one-click,
the page's "this list" or a mailto on one list is that list's own later choice, which the Undo
leaves unsubscribed. A retried message or a second click still records nothing more."""

import json
from urllib.parse import quote

import pytest
from chalice.test import Client

from app import app
from chalicelib.core.ids import subscriber_id_for
from chalicelib.storage import subscribers
from tests.api.test_complaint_after_unsubscribe import ADDRESS, DOORS, FORM
from tests.helpers import sns_message


def stop_everything(api, sid) -> tuple[str, str]:
    """ADDRESS on newsletter and promo stops everything from promo's page: (promo's link, the event)."""
    for list_id in ("newsletter", "promo"):
        api.admin("POST", f"/v1/lists/{list_id}/subscribers", {"email": ADDRESS})
    link = api.link(ADDRESS, "promo")
    assert api.http.post(link, headers=FORM, body=b"choice=all").status_code == 303
    [everything] = [e for e in api.events(sid) if e["action"] == "unsubscribe_all"]
    assert everything["source"] == "page"
    assert reasons(api) == [(False, "opted_out_all"), (False, "opted_out_all")]
    return link, "EVENT#" + everything["event_id"]


def reasons(api):
    return [(a["allowed"], a["reason"]) for a in (api.allowed(ADDRESS, lst) for lst in ("newsletter", "promo"))]


def undo(api, link, event):
    return api.http.post(f"{link}/undo", headers=FORM, body=f"event={quote(event)}".encode())


def trail(api, sid):
    return [(e["action"], e["list_id"], e["source"]) for e in api.events(sid)]


@pytest.mark.parametrize("door", DOORS)
def test_a_complaint_after_stop_everything_is_recorded_and_its_undo_is_refused(api, settings, door):
    sid = subscriber_id_for(settings.subscriber_id_key, ADDRESS)
    link, everything = stop_everything(api, sid)

    with Client(app) as client:
        DOORS[door](client, sid)
        DOORS[door](client, sid)  # delivered again: recorded once
    assert trail(api, sid)[-2:] == [("unsubscribe_all", "*", "page"), ("unsubscribe_all", "*", "complaint")]
    assert subscribers.get_profile(sid).opted_out_source == "complaint"
    assert reasons(api) == [(False, "opted_out_all"), (False, "opted_out_all")]

    assert undo(api, link, everything).status_code == 409
    assert "resubscribe" not in [action for action, _, _ in trail(api, sid)]
    assert {s.status for s in subscribers.subscriptions_of(sid)} == {"unsubscribed"}
    assert reasons(api) == [(False, "opted_out_all"), (False, "opted_out_all")]


def test_an_ses_unsubscribe_all_after_stop_everything_is_recorded_and_its_undo_is_refused(api, settings):
    sid = subscriber_id_for(settings.subscriber_id_key, ADDRESS)
    link, everything = stop_everything(api, sid)
    with Client(app) as client:
        for _ in range(2):
            event = client.events.generate_sns_event(message=sns_message("subscription", sid))
            client.lambda_.invoke("ses_event_from_sns", event)
    assert trail(api, sid)[-1] == ("unsubscribe_all", "*", "ses-subscription")
    assert [source for _, _, source in trail(api, sid)].count("ses-subscription") == 1
    assert reasons(api) == [(False, "opted_out_all"), (False, "opted_out_all")]
    assert undo(api, link, everything).status_code == 409
    assert reasons(api) == [(False, "opted_out_all"), (False, "opted_out_all")]


@pytest.mark.parametrize("how", ["one-click", "page"])
def test_leaving_one_list_after_stop_everything_is_kept_when_stop_everything_is_undone(api, settings, how):
    sid = subscriber_id_for(settings.subscriber_id_key, ADDRESS)
    link, everything = stop_everything(api, sid)
    newsletter = api.link(ADDRESS, "newsletter")
    body = b"List-Unsubscribe=One-Click" if how == "one-click" else b"choice=list"
    for _ in range(2):  # a double click: one event
        assert api.http.post(newsletter, headers=FORM, body=body).status_code in (200, 303)
    assert trail(api, sid)[-1] == ("unsubscribe", "newsletter", how)
    assert [a for a, lst, _ in trail(api, sid)].count("unsubscribe") == 1
    assert reasons(api) == [(False, "opted_out_all"), (False, "opted_out_all")]

    assert undo(api, link, everything).status_code == 303
    assert reasons(api) == [(False, "unsubscribed"), (True, "subscribed")]
    assert trail(api, sid)[-1] == ("resubscribe", "*", "page")
    assert subscribers.get_subscription(sid, "newsletter").status == "unsubscribed"


def test_a_list_left_on_its_own_before_stop_everything_is_already_done_for_a_one_click(api, settings):
    """The usual repeat: the list's own unsubscribe is recorded once, whatever came after it."""
    sid = subscriber_id_for(settings.subscriber_id_key, ADDRESS)
    for list_id in ("newsletter", "promo"):
        api.admin("POST", f"/v1/lists/{list_id}/subscribers", {"email": ADDRESS})
    newsletter = api.link(ADDRESS, "newsletter")
    assert api.http.post(newsletter, headers=FORM, body=b"List-Unsubscribe=One-Click").status_code == 200
    assert api.http.post(api.link(ADDRESS, "promo"), headers=FORM, body=b"choice=all").status_code == 303
    assert api.http.post(newsletter, headers=FORM, body=b"List-Unsubscribe=One-Click").status_code == 200
    assert [a for a, _, _ in trail(api, sid)].count("unsubscribe") == 1
    assert json.dumps(reasons(api)) == json.dumps([(False, "opted_out_all"), (False, "opted_out_all")])
