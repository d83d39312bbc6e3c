"""The coupon store's contract, on the in-memory store and on moto: issuing within the count and
value budgets (in minor units), the visitor's optimistic version and the rate limit; redeeming
exactly once through the till service; a rollback giving back exactly what its redemption
took; per-customer limits; concurrent tills."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.coupons import (
    Channel,
    CodeState,
    IssueLimits,
    OfferKind,
    Outcome,
    Terms,
    TillRequest,
    TillRules,
    plan_issue,
)
from chalicelib.offers import service
from chalicelib.offers.codes import new_code
from chalicelib.storage import offers
from tests.moto_atomic import atomic_dynamodb  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY = "2026-11-23"


def a_code(value=30, **rules) -> CodeState:
    """A code worth `value` euro cents."""
    terms = Terms(OfferKind.AMOUNT, amount=value, currency="EUR")
    return CodeState(new_code(), "shop", "c1", "A", terms, TillRules(**rules), NOW + timedelta(days=7))


def issue(store, limits: IssueLimits, value=30, visitor_id="v1", rate_limit=100, code=None):
    """Issue one code as the decision service does; the refusal's reason, or None when issued."""
    code = code or a_code(value)
    visitor = store.visitor("shop", visitor_id) or offers.new_visitor("shop", visitor_id)
    counters = plan_issue(limits, value, first_offer_to_visitor=visitor.version is None)
    try:
        store.issue(code, visitor, counters, DAY, f"RATE#shop#ip#{visitor_id}", rate_limit, NOW)
    except offers.IssueRefused as refused:
        return refused.reason
    return None


def test_thirty_cents_four_times_fits_a_budget_of_one_twenty(coupon_store):
    limits = IssueLimits(total_codes=100, total_value=120)
    assert [issue(coupon_store, limits, 30, f"v{n}") for n in range(5)] == [None] * 4 + ["budget_spent"]
    total = coupon_store.campaign_counts("shop", "c1")["TOTAL"]
    assert (total["issued"], total["value_issued"]) == (4, 120)


def test_the_count_budget_and_the_day_budget_hold(coupon_store):
    assert [issue(coupon_store, IssueLimits(total_codes=3), 30, f"v{n}") for n in range(4)] == [None] * 3 + [
        "budget_spent"
    ]
    counts = coupon_store.campaign_counts("shop", "c1")
    assert counts["TOTAL"]["issued"] == 3 and counts["ARM#A"]["issued"] == 3


def test_a_day_budget_of_value_holds_per_day(coupon_store):
    limits = IssueLimits(total_codes=100, value_per_day=50)
    assert [issue(coupon_store, limits, 20, f"v{n}") for n in range(3)] == [None, None, "budget_spent"]
    assert coupon_store.campaign_counts("shop", "c1")[f"DAY#{DAY}"] == {"issued": 2, "value_issued": 40}


def test_an_issue_from_a_stale_visitor_state_is_refused_and_writes_nothing(coupon_store):
    limits = IssueLimits(total_codes=100)
    stale = offers.new_visitor("shop", "v1")  # read before another request issued
    assert issue(coupon_store, limits) is None
    code = a_code()
    counters = plan_issue(limits, 30, first_offer_to_visitor=True)
    with pytest.raises(offers.IssueRefused) as refused:
        coupon_store.issue(code, stale, counters, DAY, "RATE#x", 100, NOW)
    assert refused.value.reason == "visitor_changed" and coupon_store.code(code.code) is None
    assert coupon_store.campaign_counts("shop", "c1")["TOTAL"]["issued"] == 1


def test_the_visitor_version_moves_with_each_issue(coupon_store):
    limits = IssueLimits(total_codes=100)
    assert issue(coupon_store, limits, visitor_id="v1") is None
    assert coupon_store.visitor("shop", "v1").version == 1
    assert issue(coupon_store, limits, visitor_id="v1") is None
    assert coupon_store.visitor("shop", "v1").version == 2


def test_a_taken_code_and_the_rate_limit_refuse(coupon_store):
    limits = IssueLimits(total_codes=100)
    code = a_code()
    assert issue(coupon_store, limits, visitor_id="v1", code=code) is None
    assert issue(coupon_store, limits, visitor_id="v2", code=code) == "code_taken"
    assert issue(coupon_store, limits, visitor_id="v3", rate_limit=1) is None
    assert issue(coupon_store, limits, visitor_id="v3", rate_limit=1) == "rate_limited"
    assert coupon_store.campaign_counts("shop", "c1")["TOTAL"]["issued"] == 2


def stored(store, **rules) -> str:
    """A code issued into the store with these till rules; its text."""
    code = a_code(**rules)
    assert issue(store, IssueLimits(total_codes=100), code=code, visitor_id=code.code) is None
    return code.code


def till(order_ref, customer=None, **fields):
    return TillRequest(order_ref, Channel.STORE, customer=customer, **fields)


def test_a_code_is_redeemed_exactly_once(coupon_store):
    code = stored(coupon_store)
    first = service.redeem_code(code, till("o-1"), NOW)
    same = service.redeem_code(code, till("o-1"), NOW + timedelta(minutes=1))
    other = service.redeem_code(code, till("o-2"), NOW + timedelta(minutes=2))
    assert (first.outcome, same.outcome, other.outcome) == (
        Outcome.REDEEMED,
        Outcome.ALREADY_REDEEMED_SAME_ORDER,
        Outcome.ALREADY_REDEEMED,
    )
    assert coupon_store.code(code).redeemed.order_ref == "o-1"
    arm = coupon_store.campaign_counts("shop", "c1")["ARM#A"]
    assert (arm["redemptions"], arm["value_redeemed"]) == (1, 30)


def test_a_rollback_gives_back_only_what_the_redemption_took(coupon_store):
    budgeted = stored(coupon_store, value_budget=100, per_customer=1)
    free = stored(coupon_store)  # no budget, no customer limit: takes neither
    service.redeem_code(budgeted, till("o-1", customer="c-1"), NOW)
    service.redeem_code(free, till("o-2", customer="c-1"), NOW)
    customer = coupon_store.code(budgeted).redeemed.customer
    assert coupon_store.customer_redemptions("shop", "c1", customer) == 1
    assert coupon_store.campaign_counts("shop", "c1")["TOTAL"]["value_redeemed"] == 30
    rolled = service.roll_back_code(free, "o-2", NOW + timedelta(hours=1))
    assert rolled.outcome == Outcome.ROLLED_BACK
    assert coupon_store.customer_redemptions("shop", "c1", customer) == 1  # the free code took none
    assert coupon_store.campaign_counts("shop", "c1")["TOTAL"]["value_redeemed"] == 30
    service.roll_back_code(budgeted, "o-1", NOW + timedelta(hours=1))
    again = service.roll_back_code(budgeted, "o-1", NOW + timedelta(hours=2))
    assert again.outcome == Outcome.ALREADY_ROLLED_BACK_SAME_ORDER  # settled: nothing given back twice
    assert coupon_store.customer_redemptions("shop", "c1", customer) == 0
    counts = coupon_store.campaign_counts("shop", "c1")
    assert counts["TOTAL"]["value_redeemed"] == 0
    assert (counts["ARM#A"]["redemptions"], counts["ARM#A"]["rollbacks"], counts["ARM#A"]["value_redeemed"]) == (
        0,
        2,
        0,
    )
    assert [r["order_ref"] for r in coupon_store.code(budgeted).rollbacks] == ["o-1"]


def test_a_customer_limit_holds_across_codes_until_a_rollback(coupon_store):
    first, second = stored(coupon_store, per_customer=1), stored(coupon_store, per_customer=1)
    assert service.redeem_code(first, till("o-1", customer="c-1"), NOW).outcome == Outcome.REDEEMED
    refused = service.redeem_code(second, till("o-2", customer="c-1"), NOW)
    assert refused.outcome == Outcome.CUSTOMER_LIMIT and coupon_store.code(second).redeemed is None
    other = service.redeem_code(second, till("o-3", customer="c-2"), NOW)
    assert other.outcome == Outcome.REDEEMED
    service.roll_back_code(second, "o-3", NOW)
    service.roll_back_code(first, "o-1", NOW)
    assert service.redeem_code(second, till("o-4", customer="c-1"), NOW).outcome == Outcome.REDEEMED


def test_the_redeemed_value_budget_holds_until_a_rollback(coupon_store):
    first, second = stored(coupon_store, value_budget=50), stored(coupon_store, value_budget=50)
    assert service.redeem_code(first, till("o-1"), NOW).outcome == Outcome.REDEEMED
    assert service.redeem_code(second, till("o-2"), NOW).outcome == Outcome.VALUE_BUDGET_SPENT
    service.roll_back_code(first, "o-1", NOW)
    assert service.redeem_code(second, till("o-2"), NOW).outcome == Outcome.REDEEMED
    assert coupon_store.campaign_counts("shop", "c1")["TOTAL"]["value_redeemed"] == 30


def test_concurrent_tills_redeem_a_code_once(coupon_store, request):
    if "moto" in request.node.callspec.id:
        request.getfixturevalue("atomic_dynamodb")
    code = stored(coupon_store)
    outcomes = []
    threads = [
        threading.Thread(target=lambda n=n: outcomes.append(service.redeem_code(code, till(f"o-{n}"), NOW).outcome))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted([Outcome.REDEEMED] + [Outcome.ALREADY_REDEEMED] * 7)
    assert coupon_store.campaign_counts("shop", "c1")["ARM#A"]["redemptions"] == 1


def test_concurrent_issues_never_pass_the_budget(coupon_store, request):
    if "moto" in request.node.callspec.id:
        request.getfixturevalue("atomic_dynamodb")
    limits = IssueLimits(total_codes=3, total_value=120)
    reasons = []
    threads = [
        threading.Thread(target=lambda n=n: reasons.append(issue(coupon_store, limits, 30, f"v{n}"))) for n in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(reasons, key=str) == sorted([None] * 3 + ["budget_spent"] * 7, key=str)
    total = coupon_store.campaign_counts("shop", "c1")["TOTAL"]
    assert (total["issued"], total["value_issued"]) == (3, 90)
