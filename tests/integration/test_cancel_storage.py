"""Cancel sessions in DynamoDB (moto): a change lands only on the version it was planned on, and
an accepted offer spends the business's budget in the same transaction."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.cancel import contracts
from chalicelib.core.errors import Conflict
from chalicelib.domain import cancel as rules
from chalicelib.domain.cancel import Answer, Reason
from chalicelib.storage import cancel as store

NOW = datetime.now(UTC)


def new_session(session_id, flow) -> rules.Session:
    raw = {
        "business": "acme",
        "customer_id": "cus_1",
        "subscription_id": "sub_1",
        "plan": "Pro",
        "price": 500,
        "currency": "JPY",
        "tenure_months": 3,
        "locale": "th",
        "return_url": "https://acme.example/account",
        "effective_date": NOW.date().isoformat(),
    }
    session = rules.open_session(contracts.parse_session_request(raw, NOW.date()), flow, session_id, NOW)
    store.create_session(session)
    return session


def test_a_session_round_trips_and_a_stale_plan_does_not_land(aws):
    flow = replace(rules.DEFAULT_FLOW, holdout_percent=0)
    session = new_session("s1", flow)
    with pytest.raises(Conflict):
        store.create_session(session)
    assert store.load_session("s1") == session
    shown = rules.plan_continue(session, Answer(Reason.UNUSED, "away"), NOW)
    cancel_on_stale = rules.plan_cancel(session, None, NOW)
    assert store.commit(shown) is None  # written
    # The stale plan does not land, and the failed condition hands back the session that won.
    assert store.commit(cancel_on_stale) == shown.session
    assert store.load_session("s1") == shown.session


def test_accepted_offers_stop_at_the_budget(aws):
    flow = replace(rules.DEFAULT_FLOW, holdout_percent=0, budget=2)
    results = []
    for n in range(3):
        session = new_session(f"b{n}", flow)
        shown = rules.plan_continue(session, Answer(Reason.UNUSED), NOW)
        assert store.commit(shown) is None
        try:
            results.append(store.commit(rules.plan_accept(shown.session, "pause-2", NOW)))
        except Conflict as error:
            results.append(error.code)
    assert results == [None, None, "offer_unavailable"]
    assert store.accepted_offers("acme") == 2
    assert store.load_session("b2").status == "open"
