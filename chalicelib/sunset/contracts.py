"""What the sunset job is sent, as pydantic models: a list's sunset policy, the signed
engagement webhook's events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, TypeAdapter, WithJsonSchema

from chalicelib.core.contracts import Contract, Identifier
from chalicelib.core.sunset_contract import SunsetPolicy
from chalicelib.sunset.records import BadRecord, parse_time

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
    bounce_type: Annotated[str, Field(max_length=64, description="`permanent` suppresses email")] | None = None


WebhookEvent = Annotated[SendEvent | OpenEvent | ClickEvent | ComplaintEvent | BounceEvent, Field(discriminator="type")]


class WebhookBatch(Contract):
    """The webhook's body. An event that does not fit is counted `malformed` and skipped; the
    others are applied (202)."""

    model_config = ConfigDict(extra="ignore")

    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=100)]


SCHEMAS = {model.__name__: model for model in (SunsetPolicy, WebhookBatch)}
WEBHOOK_EVENT = TypeAdapter(WebhookEvent)
