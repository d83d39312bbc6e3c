"""Cancel storage (moto) for the report and the new-link door: a click's counters per (reason,
arm), per day and the value given away move in its own transaction; a new-link request is
recorded, with its webhook in the outbox, at most once per interval however many arrive at once."""

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.cancel import contracts, webhooks
from chalicelib.domain import cancel as rules
from chalicelib.domain.cancel import Answer, Reason
from chalicelib.storage import cancel as store
from tests.integration.test_cancel_storage import NOW, new_session
from tests.moto_atomic import atomic_dynamodb  # noqa: F401  (fixture)


def test_a_saved_session_moves_its_counters_day_and_value_in_one_commit(aws):
    session = new_session("v1", replace(rules.DEFAULT_FLOW, holdout_percent=0))
    shown = rules.plan_continue(session, Answer(Reason.UNUSED), NOW)
    assert store.commit(shown) is None
    accepted = rules.plan_accept(shown.session, "pause-2", NOW)
    assert accepted.value_given == 500 * 2  # JPY 500 a month, paused two months
    assert store.commit(accepted) is None
    day = NOW.date()
    assert store.stats_of("acme") == {("unused", "pause-2"): {"sessions": 1, "saved": 1, "cancelled": 0, "undone": 0}}
    assert store.stats_by_day("acme", day - timedelta(days=1), day) == {
        (day.isoformat(), "unused"): {"sessions": 1, "saved": 1, "cancelled": 0, "undone": 0}
    }
    assert store.stats_by_day("acme", day + timedelta(days=1), day + timedelta(days=7)) == {}
    assert store.value_given_of("acme") == {("unused", "pause-2", "JPY"): 1000}
    # A stale plan moves nothing: its transaction fails as a whole.
    assert store.commit(rules.plan_cancel(shown.session, None, NOW)) is not None
    assert store.value_given_of("acme") == {("unused", "pause-2", "JPY"): 1000}
    assert store.stats_of("acme")[("unused", "pause-2")]["cancelled"] == 0


@pytest.mark.usefixtures("atomic_dynamodb")
def test_simultaneous_new_link_requests_record_one_and_queue_one_event(aws):
    session = new_session("l1", rules.DEFAULT_FLOW)
    results, start = [], threading.Barrier(10)

    def ask(n):
        start.wait()
        at = NOW + timedelta(milliseconds=n)
        messages = webhooks.link_request_messages(session, at)
        results.append(store.record_link_request(session, at, rules.link_request_limit(at), messages))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 9 + [True]
    queued = [m for m in store.outbox_older_than(NOW + timedelta(hours=1)) if m["session_id"] == "l1"]
    assert [m["event"]["type"] for m in queued] == ["cancel_session.link_requested"]
    later = NOW + rules.NEW_LINK_INTERVAL + timedelta(seconds=1)
    again = webhooks.link_request_messages(session, later)
    assert store.record_link_request(session, later, rules.link_request_limit(later), again) is True


def test_the_day_a_change_counts_on_is_the_planners_now():
    session = rules.open_session(
        contracts.parse_session_request(
            {
                "business": "acme",
                "customer_id": "c",
                "subscription_id": "s",
                "plan": "P",
                "price": 100,
                "currency": "USD",
                "return_url": "https://acme.example/a",
                "effective_date": "2030-01-01",
            },
            NOW.date(),
        ),
        rules.DEFAULT_FLOW,
        "d1",
        NOW,
    )
    late = datetime(2029, 5, 6, 23, 59, tzinfo=UTC)
    assert rules.plan_cancel(session, None, late).on == late.date()
    assert rules.link_request_limit(late) == rules.LinkRequestLimit(late - rules.NEW_LINK_INTERVAL, 5)
