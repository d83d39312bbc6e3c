"""Exit-intent campaigns: what an operator configures, validated into plain objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.core.errors import Invalid
from chalicelib.core.ids import ID_PATTERN
from chalicelib.domain.coupons import Channel, IssueLimits, OfferKind, Terms, TillRules
from chalicelib.domain.money import MoneyError, is_currency, to_minor

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
    min_cart_value: float = 0
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


def _number(value, name: str, low: float, high: float, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(f"{name} must be a number from {low} to {high}")
    if integer and int(value) != value:
        raise _fail(f"{name} must be a whole number")
    return int(value) if integer else float(value)


def _time(value, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise _fail(f"{name} must be an ISO 8601 time") from error
    if parsed.tzinfo is None:
        raise _fail(f"{name} needs a time zone")
    return parsed


def _strings(value, name: str, allowed: tuple[str, ...] | None = None, limit: int = 50) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or len(value) > limit
        or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in value)
    ):
        raise _fail(f"{name} must be a list of at most {limit} short strings")
    if allowed is not None and set(value) - set(allowed):
        raise _fail(f"{name} may only hold {', '.join(allowed)}")
    return tuple(value)


def _currency(value, name: str) -> str | None:
    if value is None:
        return None
    if not is_currency(value):
        raise _fail(f"{name} must be an ISO 4217 currency code such as USD, EUR or THB")
    return value.upper()


FIELDS = {
    "campaign": {"campaign_id", "name", "priority", "enabled", "starts_at", "ends_at", "targeting", "offer"}
    | {"variants", "holdout", "caps", "budget", "min_seconds_on_page", "fallback", "schedule", "redemption"},
    "targeting": {"paths", "exclude_paths", "min_cart_value", "currency", "devices", "visitor", "customers"}
    | {"utm_sources"},
    "offer": {"kind", "value", "currency", "expires_minutes", "max_discount"},
    "variant": {"variant_id", "weight", "offer", "texts"},
    "caps": {"cooldown_days", "max_per_visitor", "dismiss_cooldown_days"},
    "budget": {"total_codes", "codes_per_day", "total_value", "value_per_day", "currency"},
    "fallback": {"texts"},
    "schedule": {"time_zone", "days", "hours"},
    "redemption": {"min_order_value", "currency", "first_time_only", "channels", "store_ids", "per_customer"}
    | {"rollback_hours"},
}


def _known_fields(data: dict, kind: str, name: str) -> None:
    """A typo (`cooldon_days`) must not silently leave a default in place."""
    unknown = sorted(set(data) - FIELDS[kind])
    if unknown:
        where = f"{name}." if name else ""
        raise _fail(
            f"unknown field {where}{unknown[0]}; {name or 'a campaign'} takes {', '.join(sorted(FIELDS[kind]))}"
        )


def parse_offer(data, name: str = "offer", budget_currency: str | None = None) -> Offer:
    if not isinstance(data, dict):
        raise _fail(f"{name} must be an object")
    _known_fields(data, "offer", name)
    kind = data.get("kind")
    if kind not in OFFER_KINDS:
        raise _fail(f"{name}.kind must be one of {', '.join(OFFER_KINDS)}")
    currency = _currency(data.get("currency"), f"{name}.currency") or budget_currency
    minutes = _number(data.get("expires_minutes", 15), f"{name}.expires_minutes", 1, 60 * 24 * 30, integer=True)
    cap = data.get("max_discount")
    if cap is not None and kind != "percent":
        raise _fail(f"{name}.max_discount caps a percent offer only")
    if cap is not None and currency is None:
        raise _fail(f"{name}.max_discount needs {name}.currency (or budget.currency)")
    if kind == "percent":
        percent = _number(data.get("value"), f"{name}.value", 1, 100)
        max_discount = None if cap is None else _money(cap, f"{name}.max_discount", currency, 0, 10_000_000)
        return Offer(Terms(OfferKind.PERCENT, percent, currency=currency, max_discount=max_discount), int(minutes))
    if kind == "amount":
        if data.get("currency") is None:
            raise _fail(f"{name}.currency is needed for an amount off")
        amount = _money(data.get("value"), f"{name}.value", currency, 0.01, 10_000)
        return Offer(Terms(OfferKind.AMOUNT, amount=amount, currency=currency), int(minutes))
    return Offer(Terms(OfferKind.FREE_SHIPPING, currency=currency), int(minutes))


def _money(value, name: str, currency: str, low: float, high: float) -> int:
    """A decimal amount of `currency` from the operator's JSON, in minor units."""
    _number(value, name, low, high)
    try:
        return to_minor(value, currency)
    except MoneyError as error:
        raise _fail(f"{name}: {error}") from error


def _texts(data, name: str) -> dict:
    data = data or {}
    if not isinstance(data, dict) or set(data) - {"headline", "body", "cta"}:
        raise _fail(f"{name} takes headline, body and cta")
    if not all(isinstance(v, str) and len(v) <= 300 for v in data.values()):
        raise _fail(f"{name} values must be strings of at most 300 characters")
    return {"headline": "Before you go", "body": "Here is something for your next order.", "cta": "Use my code", **data}


def parse_campaign(data) -> Campaign:
    if not isinstance(data, dict):
        raise _fail("a campaign must be a JSON object")
    _known_fields(data, "campaign", "")
    campaign_id = data.get("campaign_id")
    if not isinstance(campaign_id, str) or not ID_PATTERN.match(campaign_id) or len(campaign_id) > 40:
        raise _fail("campaign_id must be 1-40 letters, digits, '-' or '_'")
    name = data.get("name") or campaign_id
    if not isinstance(name, str) or len(name) > 200:
        raise _fail("name must be a string of at most 200 characters")
    targeting_data = data.get("targeting") or {}
    if not isinstance(targeting_data, dict):
        raise _fail("targeting must be an object")
    _known_fields(targeting_data, "targeting", "targeting")
    targeting = Targeting(
        paths=_strings(targeting_data.get("paths", ["/*"]), "targeting.paths"),
        exclude_paths=_strings(targeting_data.get("exclude_paths", []), "targeting.exclude_paths"),
        min_cart_value=_number(targeting_data.get("min_cart_value", 0), "targeting.min_cart_value", 0, MAX_CART_VALUE),
        currency=_currency(targeting_data.get("currency"), "targeting.currency"),
        devices=_strings(targeting_data.get("devices", list(DEVICES)), "targeting.devices", DEVICES),
        visitor=_choice(targeting_data.get("visitor", "any"), "targeting.visitor", ("any", "new", "returning")),
        customers=_choice(targeting_data.get("customers", "any"), "targeting.customers", ("any", "known", "unknown")),
        utm_sources=_strings(targeting_data.get("utm_sources", []), "targeting.utm_sources"),
    )
    budget = data.get("budget") or {}
    if not isinstance(budget, dict):
        raise _fail("caps and budget must be objects")
    _known_fields(budget, "budget", "budget")
    value_caps = _value_caps(budget)
    base_offer = parse_offer(data.get("offer"), budget_currency=value_caps[2])
    variants_data = data.get("variants") or [{"variant_id": "a", "weight": 1}]
    if not isinstance(variants_data, list) or not 1 <= len(variants_data) <= 10:
        raise _fail("variants must be a list of 1 to 10 variants")
    variants = []
    for i, v in enumerate(variants_data):
        if (
            not isinstance(v, dict)
            or not isinstance(v.get("variant_id"), str)
            or not ID_PATTERN.match(v["variant_id"])
            or len(v["variant_id"]) > 20
        ):
            raise _fail(f"variants[{i}].variant_id must be 1-20 letters, digits, '-' or '_'")
        _known_fields(v, "variant", f"variants[{i}]")
        if v["variant_id"] == "holdout":
            raise _fail("'holdout' is reserved")
        offer = parse_offer(v["offer"], f"variants[{i}].offer", value_caps[2]) if "offer" in v else base_offer
        variants.append(
            Variant(
                v["variant_id"],
                _number(v.get("weight", 1), f"variants[{i}].weight", 0.001, 1000),
                offer,
                _texts(v.get("texts"), f"variants[{i}].texts"),
            )
        )
    if len({v.variant_id for v in variants}) != len(variants):
        raise _fail("variant ids must be unique")
    caps = data.get("caps") or {}
    if not isinstance(caps, dict):
        raise _fail("caps and budget must be objects")
    _known_fields(caps, "caps", "caps")
    if "total_codes" not in budget:
        raise _fail("budget.total_codes is required: offers are never unbounded")
    starts_at, ends_at = _time(data.get("starts_at"), "starts_at"), _time(data.get("ends_at"), "ends_at")
    if starts_at and ends_at and ends_at <= starts_at:
        raise _fail("ends_at must be after starts_at")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail("enabled must be true or false")
    per_day = budget.get("codes_per_day")
    return Campaign(
        campaign_id=campaign_id,
        name=name,
        priority=int(_number(data.get("priority", 0), "priority", -1000, 1000, integer=True)),
        enabled=enabled,
        starts_at=starts_at,
        ends_at=ends_at,
        targeting=targeting,
        variants=tuple(variants),
        holdout=_number(data.get("holdout", 0), "holdout", 0, 0.9),
        cooldown_days=_number(caps.get("cooldown_days", 1), "caps.cooldown_days", 0, 3650),
        max_per_visitor=int(_number(caps.get("max_per_visitor", 3), "caps.max_per_visitor", 1, 1000, integer=True)),
        total_codes=int(_number(budget["total_codes"], "budget.total_codes", 0, 100_000_000, integer=True)),
        codes_per_day=None
        if per_day is None
        else int(_number(per_day, "budget.codes_per_day", 0, 10_000_000, integer=True)),
        min_seconds_on_page=_number(data.get("min_seconds_on_page", 0), "min_seconds_on_page", 0, 3600),
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


def _schedule(data) -> Schedule:
    if data is None:
        return Schedule()
    if not isinstance(data, dict):
        raise _fail("schedule must be an object")
    _known_fields(data, "schedule", "schedule")
    zone = data.get("time_zone", "UTC")
    if not isinstance(zone, str) or not 0 < len(zone) <= 64:
        raise _fail("schedule.time_zone must be an IANA time zone such as Europe/Berlin")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(zone)
    except (ValueError, OSError, LookupError) as error:
        raise _fail(f"schedule.time_zone {zone!r} is not a known IANA time zone") from error
    days = data.get("days", list(DAYS))
    if not isinstance(days, list) or not days or not all(isinstance(d, str) and d in DAYS for d in days):
        raise _fail(f"schedule.days must be a non-empty list of {', '.join(DAYS)}")
    hours = data.get("hours", [0, 24])
    if (
        not isinstance(hours, list)
        or len(hours) != 2
        or not all(isinstance(h, int) and not isinstance(h, bool) for h in hours)
        or not 0 <= hours[0] < hours[1] <= 24
    ):
        raise _fail("schedule.hours must be [start, end] whole hours with 0 <= start < end <= 24")
    return Schedule(zone, tuple(sorted({DAYS.index(d) for d in days})), (hours[0], hours[1]))


def _redemption(data) -> RedemptionRules:
    if data is None:
        return RedemptionRules()
    if not isinstance(data, dict):
        raise _fail("redemption must be an object")
    _known_fields(data, "redemption", "redemption")
    minimum = _number(data.get("min_order_value", 0), "redemption.min_order_value", 0, MAX_CART_VALUE)
    currency = _currency(data.get("currency"), "redemption.currency")
    if minimum and currency is None:
        raise _fail("redemption.currency is needed with a minimum order value")
    minimum = (
        _money(data.get("min_order_value", 0), "redemption.min_order_value", currency, 0, MAX_CART_VALUE)
        if minimum
        else 0
    )
    first_time = data.get("first_time_only", False)
    if not isinstance(first_time, bool):
        raise _fail("redemption.first_time_only must be true or false")
    channels = _strings(data.get("channels", list(CHANNELS)), "redemption.channels", CHANNELS)
    if not channels:
        raise _fail("redemption.channels must name at least one channel")
    stores = _strings(data.get("store_ids", []), "redemption.store_ids", limit=500)
    per_customer = data.get("per_customer")
    if per_customer is not None:
        per_customer = int(_number(per_customer, "redemption.per_customer", 1, 1000, integer=True))
    hours = _number(data.get("rollback_hours", 72), "redemption.rollback_hours", 0, 24 * 90)
    return RedemptionRules(minimum, currency, first_time, channels, stores, per_customer, hours)


def _dismiss_schedule(value) -> tuple[float, ...]:
    if value is None:
        return (1, 7, 30)
    if not isinstance(value, list) or not 1 <= len(value) <= 10:
        raise _fail("caps.dismiss_cooldown_days must list 1 to 10 numbers of days")
    days = tuple(_number(v, "caps.dismiss_cooldown_days[]", 0, 3650) for v in value)
    if list(days) != sorted(days):
        raise _fail("caps.dismiss_cooldown_days must not shrink: each dismissal waits at least as long")
    return days


def _value_caps(budget: dict) -> tuple[int | None, int | None, str | None]:
    """(total value, value per day, in minor units of the budget's currency, and that currency)."""
    total, per_day = budget.get("total_value"), budget.get("value_per_day")
    currency = _currency(budget.get("currency"), "budget.currency")
    if (total is not None or per_day is not None) and currency is None:
        raise _fail("budget.currency is needed with total_value or value_per_day")
    total = None if total is None else _money(total, "budget.total_value", currency, 0, 1e9)
    per_day = None if per_day is None else _money(per_day, "budget.value_per_day", currency, 0, 1e9)
    return total, per_day, currency


def _fallback(data) -> dict | None:
    """`{"texts": {"headline", "body", "cta"}}`: e.g. "Free returns on every order", no code."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _fail("fallback must be an object")
    _known_fields(data, "fallback", "fallback")
    texts = data.get("texts")
    if not isinstance(texts, dict) or not texts.get("headline"):
        raise _fail("fallback.texts needs at least a headline")
    checked = _texts(texts, "fallback.texts")
    return {
        "headline": checked["headline"],
        "body": texts.get("body", ""),
        "cta": texts.get("cta", "Continue shopping"),
    }


def _choice(value, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _fail(f"{name} must be one of {', '.join(allowed)}")
    return value
