"""What a business's server may send to the cancellation flow, as pydantic models: a session to
open, the flow (reasons, offers per reason, holdout, budget, retention, embed origins) and the
webhook endpoint. The models check each field's type and range; the rules that tie fields
together (a pause lasts 1-3 months, no offer for someone who switched, the effective date is not
past) are the domain's (`domain.cancel`). Imported by the admin routes only: pydantic costs its
import there, never on the hosted pages."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field

from chalicelib.core.contracts import Contract, Lenient, Printable, validate
from chalicelib.core.errors import Invalid
from chalicelib.domain import cancel as rules
from chalicelib.domain.money import MoneyError, exponent

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]+$", min_length=1, max_length=64)]
Text = Annotated[Printable, Field(min_length=1, max_length=rules.MAX_TEXT)]
Whole = Annotated[int, Field(ge=0)]


def _rule(check):
    """A domain check as a field validator: its CancelRuleError is the field's complaint."""

    def run(value):
        try:
            return check(value)
        except rules.CancelRuleError as error:
            raise ValueError(str(error)) from None

    return AfterValidator(run)


def _currency(value: str) -> str:
    try:
        exponent(value)
    except MoneyError as error:
        raise ValueError("must be an ISO 4217 code") from error
    return value.upper()


def _https(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an https URL")
    return value


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ValueError("must be YYYY-MM-DD") from error


def _default_locale(value):
    # Null or "" reads as English; any other value is checked as a string (false or [] is no locale).
    return "en" if value is None or value == "" else value


# The values of `domain.cancel.OfferKind`, not the enum: the coupons' OfferKind has that component name.
Kind = Literal[tuple(str(kind) for kind in rules.OfferKind)]
Origin = Annotated[
    str,
    Field(max_length=300, description="an origin such as https://shop.example.com whose pages may frame the flow"),
    _rule(rules.embed_origin),
]


class CancelOffer(Contract):
    """One offer (arm) of a reason: a discount of `percent` for `months`, a pause of `months`, or a
    cheaper `plan` at `price` (minor units of the session's currency)."""

    offer_id: Id
    kind: Kind
    percent: Annotated[Whole, Field(le=100)] = 0
    months: Annotated[Whole, Field(le=12)] = 0
    plan: Text | None = None
    price: Annotated[Whole, Field(le=rules.MAX_PRICE)] | None = None


class CancelFlow(Contract):
    """A business's flow; absent fields take the defaults shown."""

    reasons: Annotated[list[Annotated[rules.Reason, Lenient]], Field(min_length=1, max_length=rules.MAX_REASONS)] = [
        *rules.Reason
    ]
    offers: Annotated[
        dict[Annotated[rules.Reason, Lenient], Annotated[list[CancelOffer], Field(max_length=4)]],
        Field(description="reason -> its offers (one per arm), for reasons the flow asks"),
    ] = {}
    holdout_percent: Annotated[Whole, Field(le=50)] = 10
    budget: Annotated[Whole, Field(le=10**9, description="accepted offers at most; null: no limit")] | None = None
    retention_days: Annotated[int, Field(ge=rules.DEFAULT_RETENTION_DAYS, le=36_500)] = rules.DEFAULT_RETENTION_DAYS
    embed_origins: Annotated[list[Origin], Field(max_length=rules.MAX_EMBED_ORIGINS)] = []


class CancelSession(Contract):
    """A session to open for a subscription; `price` in minor units of `currency` (1999 for 19.99 USD)."""

    business: Id
    customer_id: Id
    subscription_id: Id
    plan: Text
    price: Annotated[Whole, Field(le=rules.MAX_PRICE)]
    currency: Annotated[str, Field(max_length=3), AfterValidator(_currency)]
    tenure_months: Annotated[Whole, Field(le=1200)] = 0
    locale: Annotated[
        str, BeforeValidator(_default_locale), Field(max_length=35, description="en or th (others: en)")
    ] = "en"
    return_url: Annotated[Text, AfterValidator(_https), Field(description="https only")]
    effective_date: Annotated[Text, Field(json_schema_extra={"format": "date"}), AfterValidator(_day)]


class CancelWebhook(Contract):
    url: Annotated[str, Field(description="a public https URL, at most 500 characters")]


def parse_flow(raw) -> rules.Flow:
    """A flow as sent (`CancelFlow`), built by the domain's rules; refused as `invalid_flow`."""
    sent = validate(CancelFlow, raw, "invalid_flow")
    try:
        offers = {
            reason: tuple(
                rules.save_offer(o.offer_id, rules.OfferKind(o.kind), o.percent, o.months, o.plan, o.price)
                for o in arms
            )
            for reason, arms in sent.offers.items()
        }
        return rules.build_flow(
            tuple(sent.reasons), offers, sent.holdout_percent, sent.budget, sent.retention_days, sent.embed_origins
        )
    except rules.CancelRuleError as error:
        raise Invalid("invalid_flow", str(error)) from None


def parse_session_request(raw, today: date) -> rules.SessionRequest:
    """A session to open (`CancelSession`); refused as `invalid_session`."""
    sent = validate(CancelSession, raw, "invalid_session")
    try:
        fields = {name: getattr(sent, name) for name in CancelSession.model_fields}
        return rules.admitted(rules.SessionRequest(**fields), today)
    except rules.CancelRuleError as error:
        raise Invalid("invalid_session", str(error)) from None


def webhook_url(raw) -> str:
    return validate(CancelWebhook, raw, "invalid_webhook_url").url


# The component schemas of openapi.yaml, by name (scripts/openapi_schemas.py writes them).
SCHEMAS = {model.__name__: model for model in (CancelFlow, CancelSession, CancelWebhook)}
