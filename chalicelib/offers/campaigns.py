"""Exit-intent campaigns: what an operator configures, validated into plain objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.core.errors import Invalid
from chalicelib.domain.coupons import Channel, IssueLimits, OfferKind, Terms, TillRules
from chalicelib.domain.money import MoneyError, to_minor

OFFER_KINDS = tuple(OfferKind)
DEVICES = ("desktop", "mobile", "tablet")
MAX_CART_VALUE = 1_000_000


@dataclass(frozen=True)
class Offer:
    terms: Terms
    expires_minutes: int

    @property
    def kind(self) -> str:
        return self.terms.kind

    @property
    def currency(self) -> str | None:
        return self.terms.currency


@dataclass(frozen=True)
class Variant:
    variant_id: str
    weight: float
    offer: Offer
    texts: dict


@dataclass(frozen=True)
class Targeting:
    paths: tuple[str, ...] = ("/*",)
    exclude_paths: tuple[str, ...] = ()
    min_cart: int = 0  # minor units of `currency`; 0 is no minimum
    currency: str | None = None
    devices: tuple[str, ...] = DEVICES
    visitor: str = "any"  # any | new | returning
    customers: str = "any"  # any | known | unknown
    utm_sources: tuple[str, ...] = ()


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Schedule:
    """The campaign's time zone (its days: the daily budget resets at its midnight) and optional
    recurring windows: days of the week and hours [start, end) in that zone."""

    time_zone: str = "UTC"
    days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
    hours: tuple[int, int] = (0, 24)

    def zone(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.time_zone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone())

    def day(self, moment: datetime) -> str:
        """The campaign's calendar day of `moment` (its daily budgets count per this day)."""
        return f"{self.local(moment):%Y-%m-%d}"

    def open_at(self, moment: datetime) -> bool:
        local = self.local(moment)
        return local.weekday() in self.days and self.hours[0] <= local.hour < self.hours[1]


@dataclass(frozen=True)
class RedemptionRules:
    """Checked at the till, whatever channel redeems the code (copied onto each code at issue)."""

    min_order_value: int = 0  # minor units of `currency`
    currency: str | None = None
    first_time_only: bool = False
    channels: tuple[str, ...] = tuple(Channel)
    store_ids: tuple[str, ...] = ()  # empty: any store
    per_customer: int | None = None  # codes of this campaign one customer may redeem
    rollback_hours: float = 72  # an order cancelled or refunded within this returns the code


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    priority: int
    enabled: bool
    starts_at: datetime | None
    ends_at: datetime | None
    targeting: Targeting
    variants: tuple[Variant, ...]
    holdout: float
    cooldown_days: float
    max_per_visitor: int
    total_codes: int
    codes_per_day: int | None
    min_seconds_on_page: float = 0
    fallback_texts: dict | None = None  # a no-discount message shown when the budget is spent
    dismiss_cooldown_days: tuple[float, ...] = (1, 7, 30)  # after the 1st, 2nd, 3rd+ dismissal
    total_value: int | None = None  # discount value issued (and redeemed), minor units of `budget_currency`
    value_per_day: int | None = None
    budget_currency: str | None = None
    schedule: Schedule = field(default_factory=lambda: Schedule())
    redemption: RedemptionRules = field(default_factory=lambda: RedemptionRules())
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def limits(self) -> IssueLimits:
        return IssueLimits(self.total_codes, self.codes_per_day, self.total_value, self.value_per_day)

    def till_rules(self, offer: Offer) -> TillRules:
        """What a code of `offer` carries to the till: the redemption rules, and the value budget
        when the code's value counts in the budget's currency."""
        rules = self.redemption
        counts = self.total_value is not None and offer.currency == self.budget_currency
        return TillRules(
            channels=rules.channels,
            store_ids=rules.store_ids,
            min_order=rules.min_order_value,
            min_order_currency=rules.currency,
            first_time_only=rules.first_time_only,
            per_customer=rules.per_customer,
            rollback_hours=rules.rollback_hours,
            value_budget=self.total_value if counts else None,
        )


def _fail(message: str) -> Invalid:
    return Invalid("bad_campaign", message)


def parse_campaign(data) -> Campaign:
    """An operator's campaign: `contracts.Campaign` checks each field, then the rules across fields."""
    from chalicelib.core.contracts import validate
    from chalicelib.offers import contracts

    validate(contracts.Campaign, data, "bad_campaign")
    return build_campaign(data)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _currency(value: str | None) -> str | None:
    return None if value is None else value.upper()


def _offer(data: dict, name: str, budget_currency: str | None) -> Offer:
    kind = OfferKind(data["kind"])
    currency = _currency(data.get("currency")) or budget_currency
    minutes = data.get("expires_minutes", 15)
    cap = data.get("max_discount")
    if cap is not None and kind != OfferKind.PERCENT:
        raise _fail(f"{name}.max_discount caps a percent offer only")
    if cap is not None and currency is None:
        raise _fail(f"{name}.max_discount needs {name}.currency (or budget.currency)")
    value = data.get("value")
    if kind == OfferKind.PERCENT:
        if value is None or not 1 <= value <= 100:
            raise _fail(f"{name}.value must be a number from 1 to 100")
        max_discount = None if cap is None else _money(cap, f"{name}.max_discount", currency)
        return Offer(Terms(kind, float(value), currency=currency, max_discount=max_discount), minutes)
    if kind == OfferKind.AMOUNT:
        if data.get("currency") is None:
            raise _fail(f"{name}.currency is needed for an amount off")
        if value is None or not 0.01 <= value <= 10_000:
            raise _fail(f"{name}.value must be a number from 0.01 to 10000")
        return Offer(Terms(kind, amount=_money(value, f"{name}.value", currency), currency=currency), minutes)
    return Offer(Terms(kind, currency=currency), minutes)


def _money(value: float, name: str, currency: str) -> int:
    """A decimal amount of `currency` from the operator's JSON, in minor units."""
    try:
        return to_minor(value, currency)
    except MoneyError as error:
        raise _fail(f"{name}: {error}") from error


TEXTS = {"headline": "Before you go", "body": "Here is something for your next order.", "cta": "Use my code"}


def _min_cart(targeting: dict) -> int:
    """The minimum cart in minor units: an amount means nothing without its currency."""
    value = targeting.get("min_cart_value") or 0
    if not value:
        return 0
    currency = _currency(targeting.get("currency"))
    if currency is None:
        raise _fail("targeting.currency is required with targeting.min_cart_value (50 of which currency?)")
    return _money(value, "targeting.min_cart_value", currency)


def _texts(data: dict | None) -> dict:
    return {**TEXTS, **(data or {})}


def build_campaign(data: dict) -> Campaign:
    """The plain objects of a campaign `contracts.Campaign` accepted (as stored, so the decision
    path never imports pydantic), with the rules that tie its fields together."""
    campaign_id = data.get("campaign_id")
    if campaign_id is None:
        raise _fail("campaign_id is required")
    targeting = data.get("targeting") or {}
    budget = data["budget"]
    caps = data.get("caps") or {}
    value_caps = _value_caps(budget)
    base_offer = _offer(data["offer"], "offer", value_caps[2])
    variants = []
    for i, v in enumerate(data.get("variants") or [{"variant_id": "a", "weight": 1}]):
        if v["variant_id"] == "holdout":
            raise _fail("'holdout' is reserved")
        offer = _offer(v["offer"], f"variants[{i}].offer", value_caps[2]) if v.get("offer") else base_offer
        variants.append(Variant(v["variant_id"], float(v.get("weight", 1)), offer, _texts(v.get("texts"))))
    if len({v.variant_id for v in variants}) != len(variants):
        raise _fail("variant ids must be unique")
    starts_at, ends_at = _time(data.get("starts_at")), _time(data.get("ends_at"))
    if starts_at and ends_at and ends_at <= starts_at:
        raise _fail("ends_at must be after starts_at")
    return Campaign(
        campaign_id=campaign_id,
        name=data.get("name") or campaign_id,
        priority=data.get("priority", 0),
        enabled=data.get("enabled", True),
        starts_at=starts_at,
        ends_at=ends_at,
        targeting=Targeting(
            paths=tuple(targeting.get("paths", ["/*"])),
            exclude_paths=tuple(targeting.get("exclude_paths", [])),
            min_cart=_min_cart(targeting),
            currency=_currency(targeting.get("currency")),
            devices=tuple(targeting.get("devices", DEVICES)),
            visitor=targeting.get("visitor", "any"),
            customers=targeting.get("customers", "any"),
            utm_sources=tuple(targeting.get("utm_sources", [])),
        ),
        variants=tuple(variants),
        holdout=float(data.get("holdout", 0)),
        cooldown_days=float(caps.get("cooldown_days", 1)),
        max_per_visitor=caps.get("max_per_visitor", 3),
        total_codes=budget["total_codes"],
        codes_per_day=budget.get("codes_per_day"),
        min_seconds_on_page=float(data.get("min_seconds_on_page", 0)),
        fallback_texts=_fallback(data.get("fallback")),
        dismiss_cooldown_days=_dismiss_schedule(caps.get("dismiss_cooldown_days")),
        total_value=value_caps[0],
        value_per_day=value_caps[1],
        budget_currency=value_caps[2],
        schedule=_schedule(data.get("schedule")),
        redemption=_redemption(data.get("redemption")),
        raw=data,
    )


CHANNELS = tuple(Channel)


def _schedule(data: dict | None) -> Schedule:
    if data is None:
        return Schedule()
    hours = data.get("hours", [0, 24])
    if not hours[0] < hours[1]:
        raise _fail("schedule.hours must be [start, end] whole hours with 0 <= start < end <= 24")
    days = tuple(sorted({DAYS.index(d) for d in data.get("days", DAYS)}))
    return Schedule(data.get("time_zone", "UTC"), days, (hours[0], hours[1]))


def _redemption(data: dict | None) -> RedemptionRules:
    if data is None:
        return RedemptionRules()
    minimum = data.get("min_order_value", 0)
    currency = _currency(data.get("currency"))
    if minimum and currency is None:
        raise _fail("redemption.currency is needed with a minimum order value")
    return RedemptionRules(
        _money(minimum, "redemption.min_order_value", currency) if minimum else 0,
        currency,
        data.get("first_time_only", False),
        tuple(Channel(c) for c in data.get("channels", CHANNELS)),
        tuple(data.get("store_ids", [])),
        data.get("per_customer"),
        float(data.get("rollback_hours", 72)),
    )


def _dismiss_schedule(value: list | None) -> tuple[float, ...]:
    if value is None:
        return (1, 7, 30)
    days = tuple(float(v) for v in value)
    if list(days) != sorted(days):
        raise _fail("caps.dismiss_cooldown_days must not shrink: each dismissal waits at least as long")
    return days


def _value_caps(budget: dict) -> tuple[int | None, int | None, str | None]:
    """(total value, value per day, in minor units of the budget's currency, and that currency)."""
    total, per_day = budget.get("total_value"), budget.get("value_per_day")
    currency = _currency(budget.get("currency"))
    if (total is not None or per_day is not None) and currency is None:
        raise _fail("budget.currency is needed with total_value or value_per_day")
    total = None if total is None else _money(total, "budget.total_value", currency)
    per_day = None if per_day is None else _money(per_day, "budget.value_per_day", currency)
    return total, per_day, currency


def _fallback(data: dict | None) -> dict | None:
    """`{"texts": {"headline", "body", "cta"}}`: e.g. "Free returns on every order", no code."""
    if data is None:
        return None
    texts = data["texts"]
    if not texts.get("headline"):
        raise _fail("fallback.texts needs at least a headline")
    return {"headline": texts["headline"], "body": texts.get("body", ""), "cta": texts.get("cta", "Continue shopping")}
