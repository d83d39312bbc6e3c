"""The coupon planners without AWS: budgets, till rules, caps, rollbacks, in integer minor units.

Counter changes are applied to plain dicts here with the same ceiling rule storage turns into a
DynamoDB condition (`CounterChange.allows`)."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.coupons import (
    Channel,
    CodeState,
    CounterChange,
    IssueLimits,
    OfferKind,
    Outcome,
    Plan,
    Refusal,
    Terms,
    TillRequest,
    TillRules,
    estimated_value,
    plan_issue,
    plan_redeem,
    plan_rollback,
)
from chalicelib.domain.money import to_minor

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def commit(counters: dict[str, dict[str, int]], changes: tuple[CounterChange, ...]) -> Outcome | None:
    """All or nothing, as one transaction: the first failed ceiling's rule, else None."""
    for change in changes:
        if not change.allows(counters.get(change.name, {})):
            return change.refusal
    for change in changes:
        current = counters.setdefault(change.name, {})
        for attribute, amount in change.adds.items():
            current[attribute] = current.get(attribute, 0) + amount
    return None


def issue_until_spent(limits: IssueLimits, value: int | None) -> int:
    counters, issued = {}, 0
    while issued < 1000:
        changes = plan_issue(limits, value, first_offer_to_visitor=True)
        if isinstance(changes, Refusal) or commit(counters, changes) is not None:
            return issued
        issued += 1
    return issued


def test_four_codes_of_0_30_fit_a_budget_of_1_20():
    limits = IssueLimits(total_codes=100, total_value=to_minor(1.20, "USD"))
    assert issue_until_spent(limits, to_minor(0.30, "USD")) == 4


def test_a_jpy_and_a_bhd_campaign():
    assert issue_until_spent(IssueLimits(100, total_value=to_minor(1500, "JPY")), to_minor(500, "JPY")) == 3
    assert issue_until_spent(IssueLimits(100, total_value=to_minor("0.375", "BHD")), to_minor("0.125", "BHD")) == 3
    assert issue_until_spent(IssueLimits(100, value_per_day=to_minor("0.250", "BHD")), to_minor("0.125", "BHD")) == 2


def test_count_budgets_total_and_per_day():
    assert issue_until_spent(IssueLimits(3), 0) == 3
    assert issue_until_spent(IssueLimits(10, codes_per_day=2), 0) == 2
    assert issue_until_spent(IssueLimits(0), 0) == 0


def test_a_code_whose_value_cannot_be_known_is_not_issued_under_a_value_budget():
    assert plan_issue(IssueLimits(10, total_value=1000), None, True) == Refusal(
        Outcome.BUDGET_SPENT, "the campaign's budget is spent"
    )
    assert not isinstance(plan_issue(IssueLimits(10), None, True), Refusal)  # no value budget: issued


def test_estimates_in_the_codes_currency_with_the_cap():
    percent = Terms(OfferKind.PERCENT, 10, currency="USD", max_discount=1500)
    assert estimated_value(percent, 28450, "USD") == 1500  # 28.45 capped at 15.00
    assert estimated_value(percent, 2150, "USD") == 215
    assert estimated_value(percent, 2150, "EUR") is None
    assert estimated_value(Terms(OfferKind.AMOUNT, amount=500, currency="USD"), None, None) == 500


def code(terms: Terms | None = None, **rules) -> CodeState:
    return CodeState(
        "ABCDE-FGHJK",
        "shop",
        "c1",
        "a",
        terms or Terms(OfferKind.AMOUNT, amount=500, currency="USD"),
        TillRules(**rules),
        NOW + timedelta(hours=1),
    )


def till(order_ref="o1", channel=Channel.WEB, **fields) -> TillRequest:
    return TillRequest(order_ref, channel, **fields)


def test_ten_percent_on_a_10000_order_is_capped_by_the_codes_max_discount():
    terms = Terms(OfferKind.PERCENT, 10, currency="USD", max_discount=to_minor(15, "USD"))
    plan = plan_redeem(code(terms), till(order_value=to_minor(10_000, "USD"), currency="USD"), NOW)
    assert isinstance(plan, Plan) and plan.new.redeemed.discount == 1500 and plan.capped_by == "max_discount"
    small = plan_redeem(code(terms), till(order_value=to_minor(100, "USD"), currency="USD"), NOW)
    assert small.new.redeemed.discount == 1000 and small.capped_by is None


def test_redeemed_value_counts_against_the_campaigns_value_budget():
    """Issue 16.7: two 10% codes issued on carts of 284.50 and 21.50 (estimates 28.45 and 2.15 fit
    a budget of 100) and redeemed on 10,000 orders: the first alone (1,000) passes the budget."""
    terms = Terms(OfferKind.PERCENT, 10, currency="USD")
    budget = to_minor(100, "USD")
    counters = {}
    for cart in (284.50, 21.50):
        estimate = estimated_value(terms, to_minor(cart, "USD"), "USD")
        assert commit(counters, plan_issue(IssueLimits(10, total_value=budget), estimate, True)) is None
    order = till(order_value=to_minor(10_000, "USD"), currency="USD")
    assert plan_redeem(code(terms, value_budget=budget), order, NOW).outcome == Outcome.VALUE_BUDGET_SPENT
    fitting = till(order_value=to_minor(600, "USD"), currency="USD")  # 60.00
    plans = [plan_redeem(code(terms, value_budget=budget), fitting, NOW) for _ in range(2)]
    assert commit(counters, plans[0].counters) is None
    assert commit(counters, plans[1].counters) == Outcome.VALUE_BUDGET_SPENT  # 120 > 100
    assert counters["total"]["value_redeemed"] == 6000


def test_a_percent_code_under_a_cap_or_budget_needs_the_order_value_in_its_currency():
    capped = Terms(OfferKind.PERCENT, 10, currency="USD", max_discount=1500)
    for request in (till(), till(order_value=10_000, currency="EUR")):
        assert plan_redeem(code(capped), request, NOW).outcome == Outcome.ORDER_VALUE_NEEDED
    plain = Terms(OfferKind.PERCENT, 10, currency="USD")
    assert plan_redeem(code(plain), till(), NOW).new.redeemed.discount == 0  # nothing to count it against


@pytest.mark.parametrize(
    ("rules", "request_fields", "outcome"),
    [
        ({"channels": ("store",)}, {}, Outcome.CHANNEL_NOT_ALLOWED),
        ({"store_ids": ("berlin-1",)}, {"channel": Channel.STORE, "store_id": "paris-2"}, Outcome.STORE_NOT_ALLOWED),
        ({"min_order": 5000, "min_order_currency": "USD"}, {}, Outcome.ORDER_VALUE_NEEDED),
        (
            {"min_order": 5000, "min_order_currency": "USD"},
            {"order_value": 4999, "currency": "USD"},
            Outcome.ORDER_TOO_SMALL,
        ),
        ({"first_time_only": True}, {"first_order": False}, Outcome.FIRST_ORDER_ONLY),
        ({"per_customer": 1}, {}, Outcome.CUSTOMER_ID_NEEDED),
    ],
)
def test_each_till_rule_refuses_by_name(rules, request_fields, outcome):
    refused = plan_redeem(code(**rules), till(**request_fields), NOW)
    assert isinstance(refused, Refusal) and refused.outcome == outcome and refused.message


def test_redeemed_expired_and_the_same_order_again():
    redeemed = plan_redeem(code(), till(), NOW)
    assert redeemed.outcome == Outcome.REDEEMED and redeemed.new.redeemed.order_ref == "o1"
    again = plan_redeem(redeemed.new, till(), NOW)
    assert again.outcome == Outcome.ALREADY_REDEEMED_SAME_ORDER and again.counters == ()
    assert plan_redeem(redeemed.new, till("o2"), NOW).outcome == Outcome.ALREADY_REDEEMED
    assert plan_redeem(code(), till(), NOW + timedelta(hours=1)).outcome == Outcome.EXPIRED


def test_the_per_customer_limit_is_a_ceiling_on_the_customers_counter():
    counters = {}
    first = plan_redeem(code(per_customer=1), till(customer="h1"), NOW)
    assert commit(counters, first.counters) is None and first.new.redeemed.took_customer
    second = plan_redeem(code(per_customer=1), till("o2", customer="h1"), NOW)
    assert commit(counters, second.counters) == Outcome.CUSTOMER_LIMIT


def test_a_rollback_gives_back_exactly_what_the_redemption_took():
    counters = {}
    redeemed = plan_redeem(code(per_customer=1, value_budget=10_000), till(customer="h1"), NOW)
    assert commit(counters, redeemed.counters) is None
    back = plan_rollback(redeemed.new, "o1", NOW + timedelta(hours=1))
    assert back.outcome == Outcome.ROLLED_BACK and back.new.redeemed is None and len(back.new.rollbacks) == 1
    assert commit(counters, back.counters) is None
    assert counters["customer"]["n"] == 0 and counters["total"]["value_redeemed"] == 0
    assert counters["arm"] == {"redemptions": 0, "value_redeemed": 0, "rollbacks": 1}


def test_rollback_of_a_redemption_made_before_a_per_customer_limit_existed_credits_no_one():
    """Issue 16.9: the redemption counted nothing for the customer, so its rollback gives nothing back."""
    redeemed = plan_redeem(code(), till(customer="h1"), NOW).new
    later = replace(redeemed, rules=TillRules(per_customer=1))  # the limit came after the redemption
    back = plan_rollback(later, "o1", NOW + timedelta(hours=1))
    assert [c.name for c in back.counters] == ["arm"]


def test_rollback_refusals():
    redeemed = plan_redeem(code(rollback_hours=24), till(), NOW).new
    assert plan_rollback(code(), "o1", NOW).outcome == Outcome.NOT_REDEEMED_BY_THIS_ORDER
    assert plan_rollback(redeemed, "o2", NOW).outcome == Outcome.NOT_REDEEMED_BY_THIS_ORDER
    assert plan_rollback(redeemed, "o1", NOW + timedelta(hours=25)).outcome == Outcome.ROLLBACK_WINDOW_PASSED


def test_a_rollback_asked_again_is_settled_and_changes_nothing():
    redeemed = plan_redeem(code(rollback_hours=24), till(), NOW).new
    rolled = plan_rollback(redeemed, "o1", NOW).new
    again = plan_rollback(rolled, "o1", NOW + timedelta(minutes=1))
    assert again.outcome == Outcome.ALREADY_ROLLED_BACK_SAME_ORDER and again.new is rolled and again.counters == ()
    # Another order's rollback, or one after the code was redeemed again, is still refused.
    assert plan_rollback(rolled, "o2", NOW).outcome == Outcome.NOT_REDEEMED_BY_THIS_ORDER
    redeemed_again = plan_redeem(rolled, till(order_ref="o3"), NOW).new
    assert plan_rollback(redeemed_again, "o1", NOW).outcome == Outcome.NOT_REDEEMED_BY_THIS_ORDER
