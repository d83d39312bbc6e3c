"""What the offers' callers may send, as pydantic models: operators' sites and campaigns, the
tills' redemptions and rollbacks, and the snippet's visits and dismissals.

The models check each field's type and range; the rules that tie fields together (an amount
needs a currency, ends after starts) are the campaign builder's (`campaigns.build_campaign`).
The decision path never imports this module: `decision.parse_visit` and `parse_dismissal` are
lean parsers held to `Visit` and `DismissalEvent` by a test that feeds both the same cases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from chalicelib.core.contracts import Contract, Identifier, Lenient, Printable, absent_when_wrong, patch_of
from chalicelib.domain.coupons import Channel, DismissHow, OfferKind
from chalicelib.domain.money import is_currency

CampaignId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", min_length=1, max_length=40)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Device = Literal["desktop", "mobile", "tablet"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _currency(value: str) -> str:
    if not is_currency(value):
        raise ValueError("must be an ISO 4217 currency code such as USD, EUR or THB")
    return value


def _aware_time(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise ValueError("must be an ISO 8601 time") from error
    if parsed.tzinfo is None:
        raise ValueError("needs a time zone")
    return value


def _time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(value)
    except (ValueError, OSError, LookupError) as error:
        raise ValueError("is not a known IANA time zone (such as Europe/Paris)") from error
    return value


Currency = Annotated[str, AfterValidator(_currency), Field(min_length=3, max_length=3)]
Time = Annotated[str, AfterValidator(_aware_time), Field(max_length=64, json_schema_extra={"format": "date-time"})]
Money = Annotated[float, Field(ge=0, le=1e9)]


class Texts(Contract):
    # Absent: the default text (null is no text).
    headline: Annotated[str, Field(max_length=300)] = None  # type: ignore[assignment]
    body: Annotated[str, Field(max_length=300)] = None  # type: ignore[assignment]
    cta: Annotated[str, Field(max_length=300)] = None  # type: ignore[assignment]


class Offer(Contract):
    """Amounts are decimals of the currency (JPY 500, USD 0.30, BHD 0.125), with no more
    decimals than it has; a percent offer's `value` is 1-100, an amount's 0.01-10,000."""

    kind: Annotated[OfferKind, Lenient]
    value: Annotated[float, Field(ge=0, le=10_000)] | None = None
    currency: Currency | None = None
    expires_minutes: Annotated[int, Field(ge=1, le=60 * 24 * 30)] = 15
    max_discount: Annotated[float, Field(ge=0, le=10_000_000)] | None = None


class Variant(Contract):
    variant_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", min_length=1, max_length=20)]
    weight: Annotated[float, Field(ge=0.001, le=1000)] = 1
    offer: Offer | None = None
    texts: Texts | None = None


class Targeting(Contract):
    paths: Annotated[list[ShortText], Field(max_length=50)] = ["/*"]
    exclude_paths: Annotated[list[ShortText], Field(max_length=50)] = []
    min_cart_value: Annotated[float, Field(ge=0, le=1_000_000)] = 0
    currency: Currency | None = None
    devices: Annotated[list[Device], Field(max_length=50)] = ["desktop", "mobile", "tablet"]
    visitor: Literal["any", "new", "returning"] = "any"
    customers: Literal["any", "known", "unknown"] = "any"
    utm_sources: Annotated[list[ShortText], Field(max_length=50)] = []


class Caps(Contract):
    cooldown_days: Annotated[float, Field(ge=0, le=3650)] = 1
    max_per_visitor: Annotated[int, Field(ge=1, le=1000)] = 3
    dismiss_cooldown_days: (
        Annotated[list[Annotated[float, Field(ge=0, le=3650)]], Field(min_length=1, max_length=10)] | None
    ) = None


class Budget(Contract):
    """Offers are never unbounded: `total_codes` is required. Value caps are decimals of `currency`."""

    total_codes: Annotated[int, Field(ge=0, le=100_000_000)]
    codes_per_day: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    total_value: Money | None = None
    value_per_day: Money | None = None
    currency: Currency | None = None


class Fallback(Contract):
    """A no-discount message shown when the budget is spent: "Free returns on every order"."""

    texts: Texts


class Schedule(Contract):
    time_zone: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_time_zone)] = "UTC"
    days: Annotated[list[Day], Field(min_length=1)] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    hours: Annotated[list[Annotated[int, Field(ge=0, le=24)]], Field(min_length=2, max_length=2)] = [0, 24]


class RedemptionRules(Contract):
    min_order_value: Annotated[float, Field(ge=0, le=1_000_000)] = 0
    currency: Currency | None = None
    first_time_only: bool = False
    channels: Annotated[list[Annotated[Channel, Lenient]], Field(min_length=1, max_length=50)] = list(Channel)
    store_ids: Annotated[list[ShortText], Field(max_length=500)] = []
    per_customer: Annotated[int, Field(ge=1, le=1000)] | None = None
    rollback_hours: Annotated[float, Field(ge=0, le=24 * 90)] = 72


class Campaign(Contract):
    """An exit-intent campaign, as an operator PUTs it (`campaign_id` comes from the URL)."""

    campaign_id: CampaignId | None = None
    name: Annotated[Printable, Field(max_length=200)] | None = None
    priority: Annotated[int, Field(ge=-1000, le=1000)] = 0
    enabled: bool = True
    starts_at: Time | None = None
    ends_at: Time | None = None
    targeting: Targeting | None = None
    offer: Offer
    variants: Annotated[list[Variant], Field(max_length=10)] | None = None
    holdout: Annotated[float, Field(ge=0, le=0.9)] = 0
    caps: Caps | None = None
    budget: Budget
    min_seconds_on_page: Annotated[float, Field(ge=0, le=3600)] = 0
    fallback: Fallback | None = None
    schedule: Schedule | None = None
    redemption: RedemptionRules | None = None


class Site(Contract):
    site_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", min_length=1, max_length=40)] | None = None
    name: Annotated[Printable, Field(min_length=1, max_length=200)]
    allowed_origins: Annotated[list[Annotated[str, Field(max_length=300)]], Field(min_length=1, max_length=20)]


class KillSwitch(Contract):
    enabled: bool


OrderRef = Annotated[Printable, Field(min_length=1, max_length=100)]
Ticket = Annotated[str, Field(min_length=1, max_length=4096)]


class Redeem(Contract):
    """A till's redemption. `order_value` counts in minor units of `currency` (without a known
    currency it counts for nothing); `customer_id` is hashed, never stored in clear."""

    order_ref: OrderRef
    channel: Annotated[Channel, Lenient]
    order_value: Annotated[float, Field(ge=0, le=1e7)] | None = None
    currency: str | None = None
    store_id: Annotated[Printable, Field(min_length=1, max_length=64)] | None = None
    customer_id: Annotated[Printable, Field(min_length=1, max_length=128)] | None = None
    first_order: bool | None = None
    ticket: Annotated[Ticket, Field(description="the ticket the validation answered: one round trip")] | None = None


class Rollback(Contract):
    model_config = ConfigDict(extra="ignore")

    order_ref: OrderRef
    ticket: Annotated[Ticket, Field(description="the ticket the redemption answered: one round trip")] | None = None


SIGNED = "hex HMAC-SHA256(site secret, customer_id), rendered by the shop's server; without it the visitor is anonymous"


class Visit(Contract):
    """What the snippet sends to `/offers/decide` (the contract of `decision.parse_visit`). Other
    fields are ignored, and an empty string is an absent value."""

    model_config = ConfigDict(extra="ignore")

    site_key: Identifier
    visitor_id: Identifier | Literal[""] | None = None
    session_id: Annotated[str, Field(max_length=64)] | None = None
    page_url: Annotated[str, Field(min_length=1, max_length=2048)]
    cart_value: Annotated[float, Field(ge=0, le=1_000_000)] = 0
    currency: Currency | Literal[""] | None = None
    device: Device = "desktop"
    utm_source: Annotated[str, Field(max_length=100)] | None = None
    known_customer: bool = False
    returning: bool = False
    seconds_on_page: Annotated[float, Field(ge=0, le=86_400)] = 0
    customer_id: Annotated[Printable, Field(max_length=128)] | None = None
    customer_hash: Annotated[str, Field(max_length=128, description=SIGNED)] | None = None


class Dismissal(Contract):
    """The snippet's `dismiss` event, as `decision.parse_dismissal` reads it (a campaign_id of the
    wrong type is answered as any unknown campaign)."""

    model_config = ConfigDict(extra="ignore")

    how: Annotated[DismissHow, Lenient]
    visitor_id: Identifier
    campaign_id: Annotated[str | None, absent_when_wrong(None)] = None
    customer_id: Annotated[Printable, Field(max_length=128)] | None = None  # as the Visit's: one parser reads both
    customer_hash: Annotated[str, Field(max_length=128, description=SIGNED)] | None = None


class OfferEvent(Contract):
    """The snippet's beacon: `impression` (the dialog was seen), `claim` (the code copied or
    applied) or `dismiss` (closed), which also carries the fields of `Dismissal`."""

    model_config = ConfigDict(extra="ignore")

    event: Literal["impression", "claim", "dismiss"]
    code: str | None = None  # absent on a no-discount message
    site_key: Identifier


class Conversion(Contract):
    """The shop's order-complete page. `visitor_id` is checked as an id once the site is known."""

    model_config = ConfigDict(extra="ignore")

    visitor_id: Annotated[str, Field(min_length=1)]
    site_key: Identifier


class OfferEmail(Contract):
    """An address the visitor typed, for this one email of the code. A code of the wrong type is
    answered as an unknown one: the endpoint tells nobody which codes exist."""

    model_config = ConfigDict(extra="ignore")

    site_key: Identifier
    email: Annotated[str, Field(json_schema_extra={"format": "email"})]
    code: Annotated[str | None, absent_when_wrong(None)] = None


# What a PATCH may change: the fields of the create models but the ids the URL names, same checks.
SitePatch = patch_of(Site, fixed=("site_key",))
CampaignPatch = patch_of(Campaign, fixed=("campaign_id",))

# The component schemas of openapi.yaml, by name (scripts/openapi_schemas.py writes them).
SCHEMAS = {
    model.__name__: model
    for model in (
        Campaign,
        Site,
        KillSwitch,
        Redeem,
        Rollback,
        Visit,
        Dismissal,
        OfferEvent,
        Conversion,
        OfferEmail,
        SitePatch,
        CampaignPatch,
    )
}
