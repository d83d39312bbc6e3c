"""What the sunset job is sent, as pydantic models: a list's sunset policy, the signed
engagement webhook's events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    WithJsonSchema,
)

from chalicelib.core.contracts import Contract, Identifier
from chalicelib.core.ids import ID_PATTERN
from chalicelib.core.sunset_contract import SunsetPolicy
from chalicelib.sunset.records import MAX_WEBHOOK_EVENTS, BadRecord, parse_time

# The signed engagement webhook: each event is read on its own (one that does not fit is counted
# `malformed` and skipped); the fields an event type does not use are ignored, as before.


def _timestamp(value):
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 timestamp")
    try:
        return parse_time(value, "at")
    except BadRecord as error:
        raise ValueError(str(error).removeprefix("at ")) from None


Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    Field(description="ISO 8601; not before 2000, at most one day ahead"),
    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": 40}),
]
ListId = Annotated[Identifier, Field(description="required for send, open and click")]


class _Event(Contract):
    model_config = ConfigDict(extra="ignore")

    subscriber_id: Identifier | None = None
    email: (
        Annotated[
            str,
            Field(
                description="With subscriber_id absent: an address, a display name allowed (`John <x@example.com>`)."
            ),
        ]
        | None
    ) = None
    list_id: ListId | None = None
    at: Timestamp


class SendEvent(_Event):
    type: Literal["send"]
    message_id: Annotated[str, Field(max_length=200, description="counted once per id")] | None = None


class OpenEvent(_Event):
    """An open counts only when it is a person's: `machine: false` (the sender vouches for it),
    or no `machine` and a user agent that is not a machine's (absent or empty, Apple Mail Privacy
    Protection's exact `Mozilla/5.0`, image proxies such as GoogleImageProxy and YahooMailProxy)."""

    type: Literal["open"]
    user_agent: Annotated[str, Field(max_length=2048)] | None = None
    machine: bool | None = None


class ClickEvent(_Event):
    type: Literal["click"]


class ComplaintEvent(_Event):
    type: Literal["complaint"]


class BounceEvent(_Event):
    type: Literal["bounce"]
    bounce_type: (
        Annotated[
            str, Field(max_length=64, description="`permanent` (any case, e.g. SES's `Permanent`) suppresses email")
        ]
        | None
    ) = None


WebhookEvent = Annotated[SendEvent | OpenEvent | ClickEvent | ComplaintEvent | BounceEvent, Field(discriminator="type")]


class WebhookBatch(Contract):
    """The webhook's body. An event that does not fit is counted `malformed` and skipped; the
    others are applied (202)."""

    model_config = ConfigDict(extra="ignore")

    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=MAX_WEBHOOK_EVENTS)]


class WebhookEnvelope(Contract):
    """The batch as the route takes it: 1-100 events, each then read on its own (`WebhookEvent`),
    so one that does not fit is counted `malformed`, never a 400 for the whole batch."""

    model_config = ConfigDict(extra="ignore")

    events: Annotated[list[Any], Field(min_length=1, max_length=MAX_WEBHOOK_EVENTS)]


SCHEMAS = {model.__name__: model for model in (SunsetPolicy, WebhookBatch)}
WEBHOOK_EVENT = TypeAdapter(WebhookEvent)


# Amazon SES event publishing (the SNS message, or EventBridge's `detail`) and an identity's
# feedback notifications. Each event type reads only its own fields, and only those are checked:
# a wrongly typed one makes the record malformed (`engagement.parse_ses_record`), whatever else the
# record holds is ignored, as SES adds fields over time. Read lazily: `mail.timestamp` where it is
# only a fallback (`SesTime`), and the addresses of a subscription event only when it is untagged.


class _SesPart(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, populate_by_name=True)


def _first_tag_value(values):
    """SES tags are `{name: [value]}`: the first value (a bare value is taken too)."""
    match values:
        case [first, *_]:
            return first
        case []:
            return None
    return values


def _our_id(value: str | None) -> str | None:
    """A tag value that is not one of our ids is no tag of ours."""
    return value if value is not None and ID_PATTERN.fullmatch(value) else None


TagValue = Annotated[str | None, BeforeValidator(_first_tag_value), AfterValidator(_our_id)]
RawTime = Annotated[Any, Field(description="read as a Timestamp only where it is used")]


class SesTags(_SesPart):
    subscriber_id: TagValue = Field(None, alias="offboard-subscriber")
    list_id: TagValue = Field(None, alias="offboard-list")


class SesMail(_SesPart):
    tags: SesTags = SesTags()
    timestamp: RawTime = None


class SesRecipient(_SesPart):
    emailAddress: str | None = None


Recipients = list[SesRecipient] | None


class _SesEvent(_SesPart):
    mail: SesMail


class SesSend(_SesEvent):
    """Send and Delivery: counted once per message id (its time is read only when tagged)."""

    class Mail(SesMail):
        messageId: Annotated[str, Field(max_length=200)] | None = None

    mail: Mail


class _OpenPart(_SesPart):
    userAgent: str | None = None
    timestamp: Timestamp


class SesOpen(_SesEvent):
    open: _OpenPart


class _ClickPart(_SesPart):
    timestamp: Timestamp


class SesClick(_SesEvent):
    class Mail(SesMail):
        timestamp: Timestamp

    mail: Mail
    click: _ClickPart


class _ComplaintPart(_SesPart):
    complainedRecipients: Recipients = None
    complaintFeedbackType: Annotated[str, Field(max_length=64)] | None = None
    timestamp: Timestamp | None = None


class SesComplaint(_SesEvent):
    complaint: _ComplaintPart = _ComplaintPart()


class _BouncePart(_SesPart):
    bouncedRecipients: Recipients = None
    bounceType: Annotated[str, Field(max_length=64)] | None = None
    timestamp: Timestamp | None = None


class SesBounce(_SesEvent):
    bounce: _BouncePart = _BouncePart()


class _TopicPreferences(_SesPart):
    unsubscribeAll: bool | None = None


class _SubscriptionPart(_SesPart):
    newTopicPreferences: _TopicPreferences = _TopicPreferences()
    timestamp: Timestamp | None = None


class _CommonHeaders(_SesPart):
    to: list[str] | None = None


class SesSubscription(_SesEvent):
    """SES subscription management; untagged, the one address it went to (`addressed_to`)."""

    class Mail(SesMail):
        destination: Any = None  # read (as ADDRESSES) only when untagged
        commonHeaders: Any = None  # read (as COMMON_HEADERS) only when `destination` names nobody

    mail: Mail
    subscription: _SubscriptionPart = _SubscriptionPart()


class SesOther(_SesEvent):
    """Reject, Rendering Failure, DeliveryDelay: nothing to do."""


class SesSetup(_SesPart):
    """SES's test notification when a topic is set up."""


def ses_event_type(record) -> str | None:
    """`eventType` (event publishing), else `notificationType` (an identity's notifications)."""
    match record:
        case {"eventType": str() as kind}:
            return kind
        case {"eventType": None, "notificationType": str() as kind}:
            return kind
        case {"notificationType": str() as kind} if "eventType" not in record:
            return kind
    return None


SesRecord = Annotated[
    Annotated[SesSend, Tag("Send")]
    | Annotated[SesSend, Tag("Delivery")]
    | Annotated[SesOpen, Tag("Open")]
    | Annotated[SesClick, Tag("Click")]
    | Annotated[SesComplaint, Tag("Complaint")]
    | Annotated[SesBounce, Tag("Bounce")]
    | Annotated[SesSubscription, Tag("Subscription")]
    | Annotated[SesOther, Tag("Reject")]
    | Annotated[SesOther, Tag("Rendering Failure")]
    | Annotated[SesOther, Tag("DeliveryDelay")]
    | Annotated[SesSetup, Tag("AmazonSnsSubscriptionSucceeded")],
    Discriminator(ses_event_type),
]
SES_RECORD = TypeAdapter(SesRecord)
TIMESTAMP = TypeAdapter(Timestamp)
ADDRESSES = TypeAdapter(list[str] | None)
COMMON_HEADERS = TypeAdapter(_CommonHeaders | None)
