"""Every coupon change planned from the current state: issue, redeem, roll back.

A planner returns either a plan (the preconditions on the code, its new state, and counter
changes, each with the ceilings it must not pass and the rule a failed ceiling means) or a
`Refusal` naming the rule. Storage commits a plan as one transaction and decides nothing.
Money is in integer minor units of the code's currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.money import percent_of


class DismissHow(StrEnum):
    """How a visitor closed an offer."""

    CLOSE = "close"
    ESC = "esc"
    NEVER = "never"  # "don't show again"


class OfferKind(StrEnum):
    PERCENT = "percent"
    AMOUNT = "amount"
    FREE_SHIPPING = "free_shipping"


class Channel(StrEnum):
    WEB = "web"
    STORE = "store"
    PHONE = "phone"
    APP = "app"


class Outcome(StrEnum):
    """What a coupon change came to. The first five are successes."""

    ISSUED = "issued"
    REDEEMED = "redeemed"
    ALREADY_REDEEMED_SAME_ORDER = "already_redeemed_same_order"
    ROLLED_BACK = "rolled_back"
    ALREADY_ROLLED_BACK_SAME_ORDER = "already_rolled_back_same_order"
    BUDGET_SPENT = "budget_spent"
    ALREADY_REDEEMED = "already_redeemed"
    EXPIRED = "expired"
    CUSTOMER_LIMIT = "customer_limit"
    VALUE_BUDGET_SPENT = "value_budget_spent"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"
    STORE_NOT_ALLOWED = "store_not_allowed"
    ORDER_TOO_SMALL = "order_too_small"
    FIRST_ORDER_ONLY = "first_order_only"
    ORDER_VALUE_NEEDED = "order_value_needed"
    CUSTOMER_ID_NEEDED = "customer_id_needed"
    NOT_REDEEMED_BY_THIS_ORDER = "not_redeemed_by_this_order"
    ROLLBACK_WINDOW_PASSED = "rollback_window_passed"


@dataclass(frozen=True)
class Refusal:
    outcome: Outcome
    message: str


@dataclass(frozen=True)
class Terms:
    """What a code is worth. `currency` is the currency of `amount`, `max_discount` and the
    value the code counts against a budget."""

    kind: OfferKind
    percent: float = 0
    amount: int = 0
    currency: str | None = None
    max_discount: int | None = None  # a percent code never takes more than this


@dataclass(frozen=True)
class TillRules:
    """The campaign's rules at the till, copied onto each code when it is issued, so a
    redemption needs nothing but the code (and a later change of the campaign does not change
    what a code already handed out promised)."""

    channels: tuple[str, ...] = tuple(Channel)
    store_ids: tuple[str, ...] = ()  # empty: any store
    min_order: int = 0  # in `min_order_currency`
    min_order_currency: str | None = None
    first_time_only: bool = False
    per_customer: int | None = None
    rollback_hours: float = 72
    value_budget: int | None = None  # the campaign's total value, in the code's currency


@dataclass(frozen=True)
class Redeemed:
    """A redemption, and what it took: the counts a rollback gives back are exactly these."""

    order_ref: str
    channel: str
    at: datetime
    store_id: str | None = None
    customer: str | None = None  # hashed
    order_value: int | None = None  # minor units of the code's currency
    discount: int = 0
    took_customer: bool = False  # counted against the customer's limit
    took_budget: bool = False  # counted against the campaign's redeemed-value budget


@dataclass(frozen=True)
class CodeState:
    code: str
    site_key: str
    campaign_id: str
    variant_id: str
    terms: Terms
    rules: TillRules
    expires_at: datetime
    redeemed: Redeemed | None = None
    rollbacks: tuple[dict, ...] = ()


@dataclass(frozen=True)
class CounterChange:
    """Add `adds` to the counter storage knows as `name`; `ceilings` are the values an attribute
    must not pass after the add (a missing counter counts as 0); when one would, the change
    fails and means `refusal`."""

    name: str
    adds: dict[str, int]
    ceilings: dict[str, int] = field(default_factory=dict)
    refusal: Outcome | None = None

    def allows(self, current: dict[str, int]) -> bool:
        return all(current.get(k, 0) + self.adds.get(k, 0) <= limit for k, limit in self.ceilings.items())


@dataclass(frozen=True)
class Plan:
    """Commit `new` for the code if it is still as `expected` (None: the code is as read, with no
    redemption), with every counter change, all or nothing."""

    outcome: Outcome
    code: CodeState
    new: CodeState
    counters: tuple[CounterChange, ...]
    capped_by: str | None = None  # "max_discount" when the code's cap cut the discount

    def refusal_for(self, counter_name: str) -> Outcome | None:
        return next((c.refusal for c in self.counters if c.name == counter_name), None)


# Issue


@dataclass(frozen=True)
class IssueLimits:
    """A campaign's budgets: codes in total and per day, discount value in total and per day
    (value in minor units of the budget's currency)."""

    total_codes: int
    codes_per_day: int | None = None
    total_value: int | None = None
    value_per_day: int | None = None

    @property
    def counts_value(self) -> bool:
        return self.total_value is not None or self.value_per_day is not None


def plan_issue(
    limits: IssueLimits, value: int | None, first_offer_to_visitor: bool
) -> tuple[CounterChange, ...] | Refusal:
    """The counter changes that reserve one code's budget. `value` is its estimated discount in
    the budget's currency (None when it cannot be known: such a code is not issued under a value
    budget). Ceilings make the reservation atomic, however many issue at once."""
    spent = Refusal(Outcome.BUDGET_SPENT, "the campaign's budget is spent")
    if limits.counts_value and value is None:
        return spent
    value = value or 0
    if limits.total_codes <= 0 or limits.codes_per_day == 0:
        return spent
    if any(cap is not None and value > cap for cap in (limits.total_value, limits.value_per_day)):
        return spent
    total_adds, total_ceilings = {"issued": 1}, {"issued": limits.total_codes}
    if limits.total_value is not None:
        total_adds["value_issued"] = value
        total_ceilings["value_issued"] = limits.total_value
    changes = [CounterChange("total", total_adds, total_ceilings, Outcome.BUDGET_SPENT)]
    if limits.codes_per_day is not None or limits.value_per_day is not None:
        day_adds, day_ceilings = {"issued": 1}, {}
        if limits.codes_per_day is not None:
            day_ceilings["issued"] = limits.codes_per_day
        if limits.value_per_day is not None:
            day_adds["value_issued"] = value
            day_ceilings["value_issued"] = limits.value_per_day
        changes.append(CounterChange("day", day_adds, day_ceilings, Outcome.BUDGET_SPENT))
    arm = {
        "issued": 1,
        **({"visitors": 1} if first_offer_to_visitor else {}),
        **({"value_issued": value} if value else {}),
    }
    changes.append(CounterChange("arm", arm))
    return tuple(changes)


def estimated_value(terms: Terms, cart_value: int | None, cart_currency: str | None) -> int | None:
    """What a code issued on this cart is worth, in the code's currency; None when unknown."""
    if terms.kind == OfferKind.AMOUNT:
        return terms.amount
    if terms.kind == OfferKind.PERCENT:
        if cart_value is None or terms.currency is None or cart_currency != terms.currency:
            return None
        return _capped(terms, percent_of(cart_value, terms.percent))[0]
    return 0


# Redeem


@dataclass(frozen=True)
class TillRequest:
    """A till's redemption, parsed. `order_value` is in minor units of `currency`."""

    order_ref: str
    channel: Channel
    order_value: int | None = None
    currency: str | None = None
    store_id: str | None = None
    customer: str | None = None  # hashed by the service before planning
    first_order: bool | None = None


def _capped(terms: Terms, discount: int) -> tuple[int, str | None]:
    if terms.max_discount is not None and discount > terms.max_discount:
        return terms.max_discount, "max_discount"
    return discount, None


def _order_in(request: TillRequest, currency: str | None) -> int | None:
    if request.order_value is None or currency is None or request.currency != currency:
        return None
    return request.order_value


def discount_of(terms: Terms, order_value: int | None) -> tuple[int | None, str | None]:
    """(the discount in the code's currency, "max_discount" when the cap cut it); None when a
    percent code's order value is unknown."""
    if terms.kind == OfferKind.AMOUNT:
        return terms.amount, None
    if terms.kind == OfferKind.PERCENT:
        return (None, None) if order_value is None else _capped(terms, percent_of(order_value, terms.percent))
    return 0, None


def plan_redeem(code: CodeState, request: TillRequest, now: datetime) -> Plan | Refusal:
    """Redeem exactly once. Order of the rules: an existing redemption (same order: settled, no
    change), expiry, channel, store, minimum order, first order, customer id, the value the code
    gives (its cap applied), then the counter ceilings: per-customer limit and the campaign's
    redeemed-value budget."""
    rules, terms = code.rules, code.terms
    if code.redeemed is not None:
        if code.redeemed.order_ref == request.order_ref:
            return Plan(Outcome.ALREADY_REDEEMED_SAME_ORDER, code, code, ())
        return Refusal(Outcome.ALREADY_REDEEMED, "this code was redeemed for another order")
    if code.expires_at <= now:
        return Refusal(Outcome.EXPIRED, "this code has expired")
    if request.channel not in rules.channels:
        return Refusal(Outcome.CHANNEL_NOT_ALLOWED, f"this code is valid only for {', '.join(rules.channels)}")
    if rules.store_ids and request.channel == Channel.STORE and request.store_id not in rules.store_ids:
        return Refusal(Outcome.STORE_NOT_ALLOWED, "this code is not valid in this store")
    if rules.min_order:
        order = _order_in(request, rules.min_order_currency)
        if order is None:
            return Refusal(
                Outcome.ORDER_VALUE_NEEDED, f"send order_value and currency ({rules.min_order_currency}) for this code"
            )
        if order < rules.min_order:
            return Refusal(Outcome.ORDER_TOO_SMALL, "the order is below this code's minimum order value")
    if rules.first_time_only and request.first_order is not True:
        return Refusal(Outcome.FIRST_ORDER_ONLY, "this code is for a customer's first order (send first_order: true)")
    if rules.per_customer and not request.customer:
        return Refusal(Outcome.CUSTOMER_ID_NEEDED, "this code is limited per customer: send customer_id")
    order_value = _order_in(request, terms.currency)
    discount, capped_by = discount_of(terms, order_value)
    if discount is None:
        if terms.max_discount is not None or rules.value_budget is not None:
            return Refusal(
                Outcome.ORDER_VALUE_NEEDED, f"send order_value and currency ({terms.currency}) for this percent code"
            )
        discount = 0  # no cap and no budget to count it against: worth what the shop's order says
    took_customer = bool(rules.per_customer and request.customer)
    took_budget = rules.value_budget is not None
    if took_budget and discount > rules.value_budget:
        return Refusal(Outcome.VALUE_BUDGET_SPENT, REFUSAL_MESSAGES[Outcome.VALUE_BUDGET_SPENT])
    counters = [CounterChange("arm", {"redemptions": 1, "value_redeemed": discount})]
    if took_customer:
        counters.append(CounterChange("customer", {"n": 1}, {"n": rules.per_customer}, Outcome.CUSTOMER_LIMIT))
    if took_budget:
        counters.append(
            CounterChange(
                "total",
                {"value_redeemed": discount},
                {"value_redeemed": rules.value_budget},
                Outcome.VALUE_BUDGET_SPENT,
            )
        )
    redeemed = Redeemed(
        request.order_ref,
        request.channel,
        now,
        request.store_id,
        request.customer,
        order_value,
        discount,
        took_customer,
        took_budget,
    )
    return Plan(Outcome.REDEEMED, code, replace(code, redeemed=redeemed), tuple(counters), capped_by)


REFUSAL_MESSAGES = {
    Outcome.CUSTOMER_LIMIT: "this customer has used as many codes of this campaign as it allows",
    Outcome.VALUE_BUDGET_SPENT: "this redemption would pass the campaign's budget of redeemed value",
}


# Roll back


def plan_rollback(code: CodeState, order_ref: str, now: datetime) -> Plan | Refusal:
    """Undo a redemption within the window, once, giving back exactly what it took."""
    redeemed = code.redeemed
    if redeemed is None and code.rollbacks and code.rollbacks[-1].get("order_ref") == order_ref:
        # The till asks again (its answer was lost): settled, as a repeated redemption is.
        return Plan(Outcome.ALREADY_ROLLED_BACK_SAME_ORDER, code, code, ())
    if redeemed is None or redeemed.order_ref != order_ref:
        return Refusal(Outcome.NOT_REDEEMED_BY_THIS_ORDER, "this code is not redeemed by this order")
    if now > redeemed.at + timedelta(hours=code.rules.rollback_hours):
        return Refusal(
            Outcome.ROLLBACK_WINDOW_PASSED,
            f"a redemption can be rolled back within {code.rules.rollback_hours:g} hours",
        )
    counters = [
        CounterChange("arm", {"redemptions": -1, "rollbacks": 1, "value_redeemed": -redeemed.discount}),
    ]
    if redeemed.took_customer:
        counters.append(CounterChange("customer", {"n": -1}))
    if redeemed.took_budget:
        counters.append(CounterChange("total", {"value_redeemed": -redeemed.discount}))
    audit = {"order_ref": order_ref, "redeemed_at": redeemed.at.isoformat(), "rolled_back_at": now.isoformat()}
    new = replace(code, redeemed=None, rollbacks=(*code.rollbacks, audit))
    return Plan(Outcome.ROLLED_BACK, code, new, tuple(counters))
