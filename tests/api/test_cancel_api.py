"""The cancellation flow through HTTP: a business's server opens a session, a person follows the
signed link; GET changes nothing, each click is one outcome, the law's edges hold."""

import re
import threading
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest

from chalicelib.storage import cancel as store
from tests.moto_atomic import atomic_dynamodb  # noqa: F401  (fixture)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def session_body(**overrides):
    body = {
        "business": "acme",
        "customer_id": "cus_123",
        "subscription_id": "sub_456",
        "plan": "Pro monthly",
        "price": 1999,
        "currency": "USD",
        "tenure_months": 7,
        "locale": "en",
        "return_url": "https://acme.example/account",
        "effective_date": (date.today() + timedelta(days=20)).isoformat(),
    }
    return {**body, **overrides}


def open_session(api, **overrides) -> tuple[str, str]:
    response = api.admin("POST", "/v1/cancel-sessions", session_body(**overrides))
    assert response.status_code == 201, response.body
    return response.json_body["session_id"], urlsplit(response.json_body["url"]).path


def click(api, path, **fields):
    return api.http.request("POST", path, headers=FORM, body=urlencode(fields).encode())


def page(response) -> str:
    return response.body.decode()


def find_subscription_with_arm(api, reason, want_offer: bool):
    """A subscription id that the sticky holdout puts in (or out of) the offer arm."""
    from chalicelib.cancel import contracts
    from chalicelib.domain import cancel as rules

    for n in range(200):
        session = rules.open_session(
            contracts.parse_session_request(session_body(subscription_id=f"sub_{n}"), date.today()),
            rules.DEFAULT_FLOW,
            "x",
            datetime.now(UTC),
        )
        arm, offer = rules.choose_offer(session, reason)
        if (offer is not None) == want_offer:
            return f"sub_{n}"
    raise AssertionError("no such subscription")


def test_opening_a_session_needs_the_admin_key_and_answers_a_link_without_personal_data(api):
    assert (
        api.http.request(
            "POST", "/v1/cancel-sessions", headers={"Content-Type": "application/json"}, body=b"{}"
        ).status_code
        == 401
    )
    session_id, path = open_session(api)
    assert path.startswith("/cancel/")
    assert "cus_123" not in path and "sub_456" not in path and "acme" not in path
    assert session_id in path  # the random session id is the only thing the link names


@pytest.mark.parametrize(
    "bad",
    [
        {"return_url": "http://acme.example/account"},
        {"price": 19.99},
        {"currency": "XYZ"},
        {"effective_date": "2000-01-01"},
        {"customer_id": "has space"},
    ],
)
def test_bad_session_input_is_a_400_naming_the_field(api, bad):
    response = api.admin("POST", "/v1/cancel-sessions", session_body(**bad))
    assert response.status_code == 400
    assert response.json_body["error"] == "invalid_session"


def test_the_first_page_has_the_cancel_button_and_nothing_pre_selected_and_get_changes_nothing(api):
    session_id, path = open_session(api)
    for _ in range(3):
        response = api.http.get(path)
        assert response.status_code == 200
    html = page(response)
    assert 'value="cancel"' in html and "Cancel subscription" in html
    assert "checked" not in html and "selected" not in html
    assert len(re.findall(r'type="radio"', html)) == 8
    assert store.load_session(session_id).version == 0


def test_cancel_on_the_first_page_is_one_click_and_records_the_optional_answer(api):
    session_id, path = open_session(api)
    response = click(api, path, action="cancel", reason="too_complex", comment="menus")
    assert response.status_code == 200
    assert "Your subscription is cancelled. It ends on" in page(response)
    session = store.load_session(session_id)
    assert (
        session.status == "cancelled" and session.answer.reason == "too_complex" and session.answer.comment == "menus"
    )


def test_a_price_reason_shows_one_offer_beside_no_thanks_cancel_and_accepting_says_what(api):
    subscription = find_subscription_with_arm(api, "too_expensive", want_offer=True)
    session_id, path = open_session(api, subscription_id=subscription)
    offer = click(api, path, action="continue", reason="too_expensive")
    html = page(offer)
    assert "25% off your next 3 months" in html
    assert html.count('data-role="accept"') == 1 and "No thanks, cancel" in html
    # Equal visual weight: both buttons have the same class.
    classes = re.findall(r'<button class="([^"]+)"[^>]*data-role="(accept|cancel)"', html)
    assert len({c for c, _ in classes}) == 1 and len(classes) == 2
    saved = click(api, path, action="accept", offer_id="discount-25-3")
    assert "Done: 25% off your next 3 months. Your subscription continues" in page(saved)
    assert store.load_session(session_id).status == "saved"
    # A late cancel never turns a saved session into a cancelled one.
    late = click(api, path, action="cancel")
    assert "Done: 25% off" in page(late) and store.load_session(session_id).status == "saved"


def test_the_holdout_and_a_switching_reason_get_no_offer_and_continue_cancels(api):
    subscription = find_subscription_with_arm(api, "too_expensive", want_offer=False)
    session_id, path = open_session(api, subscription_id=subscription)
    assert "cancelled" in page(click(api, path, action="continue", reason="too_expensive"))
    assert store.load_session(session_id).arm == "holdout"
    session_id, path = open_session(api)
    assert "cancelled" in page(click(api, path, action="continue", reason="switched_service"))
    assert store.load_session(session_id).arm == "none"


def test_undo_until_the_effective_date_then_the_subscription_continues(api):
    session_id, path = open_session(api)
    html = page(click(api, path, action="cancel"))
    undo = re.search(r'action="(/cancel/undo/[^"]+)"', html).group(1)
    assert "Keep my subscription" in html
    response = api.http.request("POST", undo, headers=FORM, body=b"")
    assert "Your subscription continues" in page(response)
    assert store.load_session(session_id).status == "undone"
    again = api.http.request("POST", undo, headers=FORM, body=b"")
    assert again.status_code == 200 and store.load_session(session_id).status == "undone"


def test_tampered_and_expired_links_are_refused_with_a_way_back(api, monkeypatch):
    session_id, path = open_session(api)
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert api.http.get(tampered).status_code == 400
    from chalicelib.cancel import routes

    later = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr(routes, "_now", lambda: later)
    expired = api.http.get(path)
    assert expired.status_code == 410
    assert "This link has expired" in page(expired) and "https://acme.example/account" in page(expired)
    assert click(api, path, action="cancel").status_code == 410
    assert store.load_session(session_id).status == "open"


def test_thai_pages(api):
    _, path = open_session(api, locale="th")
    html = page(api.http.get(path))
    assert 'lang="th"' in html and "ยกเลิกการสมัครสมาชิก" in html


@pytest.mark.usefixtures("atomic_dynamodb")
def test_twenty_simultaneous_cancel_and_accept_clicks_come_to_one_outcome(api):
    subscription = find_subscription_with_arm(api, "too_expensive", want_offer=True)
    session_id, path = open_session(api, subscription_id=subscription)
    click(api, path, action="continue", reason="too_expensive")
    outcomes, start = [], threading.Barrier(20)

    def worker(n):
        start.wait()
        fields = {"action": "accept", "offer_id": "discount-25-3"} if n % 2 else {"action": "cancel"}
        response = click(api, path, **fields)
        outcomes.append((response.status_code, "Done: 25%" in page(response), "is cancelled" in page(response)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    session = store.load_session(session_id)
    assert all(status == 200 for status, _, _ in outcomes)
    # Every click answers the one outcome that won.
    if session.status == "saved":
        assert all(saved and not cancelled for _, saved, cancelled in outcomes)
    else:
        assert session.status == "cancelled"
        assert all(cancelled and not saved for _, saved, cancelled in outcomes)
    assert session.version == 2  # shown, then exactly one decision
    # One webhook event per outcome: the outbox holds started and one completed for the session.
    future = datetime.now(UTC) + timedelta(minutes=1)
    events = [m["event"]["type"] for m in store.outbox_older_than(future) if m["session_id"] == session_id]
    assert sorted(events) == ["cancel_session.completed", "cancel_session.started"]


def test_the_customers_records_export_and_erase(api):
    first, path = open_session(api)
    click(api, path, action="cancel", reason="too_complex", comment="my name is Alice")
    second, _ = open_session(api, subscription_id="sub_other")
    other, _ = open_session(api, customer_id="cus_else")

    exported = api.admin("GET", "/v1/cancel-customers/acme/cus_123/records").json_body
    assert [s["id"] for s in exported["sessions"]] == [first, second]
    done = exported["sessions"][0]
    assert (done["status"], done["reason"], done["comment"]) == ("cancelled", "too_complex", "my name is Alice")
    assert done["decided_at"] and done["created_at"]

    assert api.admin("DELETE", "/v1/cancel-customers/acme/cus_123/records").json_body["sessions_erased"] == 2
    assert api.admin("GET", "/v1/cancel-customers/acme/cus_123/records").json_body["sessions"] == []
    kept = store.load_session(first)
    assert kept.request.customer_id == "erased" and kept.answer.comment is None
    assert kept.status == "cancelled" and kept.answer.reason == "too_complex"  # the choice stays
    assert store.load_session(other).request.customer_id == "cus_else"


def test_the_report_counts_each_outcome_once_by_reason_and_arm(api):
    from chalicelib.cancel import contracts
    from chalicelib.domain import cancel as rules
    from chalicelib.domain.cancel import Reason

    offered, held_out = [], []
    for n in range(80):
        request = contracts.parse_session_request(session_body(subscription_id=f"r{n}"), date.today())
        arm, _ = rules.choose_offer(
            rules.open_session(request, rules.DEFAULT_FLOW, "x", datetime.now(UTC)), Reason.UNUSED
        )
        (held_out if arm == rules.HOLDOUT else offered).append(f"r{n}")
    for n, subscription in enumerate(offered[:40]):
        _, path = open_session(api, subscription_id=subscription)
        click(api, path, action="continue", reason="unused")
        action = {"action": "accept", "offer_id": "pause-2"} if n % 4 == 0 else {"action": "cancel"}
        click(api, path, **action)
        click(api, path, **action)  # a double click counts once
    for subscription in held_out:
        _, path = open_session(api, subscription_id=subscription)
        click(api, path, action="continue", reason="unused")
    report = api.admin("GET", "/v1/cancel-flows/acme/report").json_body
    arms = report["reasons"]["unused"]["arms"]
    assert arms["pause-2"]["sessions"] == 40 and arms["pause-2"]["saved"] == 10 and arms["pause-2"]["cancelled"] == 30
    assert arms["pause-2"]["save_rate"] == 0.25
    assert arms["holdout"]["sessions"] == len(held_out) and arms["holdout"]["saved"] == 0
    # The interval comes only with the minimum sample on both arms.
    expected = None if len(held_out) < 30 else "newcombe-wilson"
    got = report["reasons"]["unused"]["lift_vs_holdout"]["pause-2"]
    assert (got["method"] if got else None) == expected
