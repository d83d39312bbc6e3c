"""What the unsubscribe side is sent, as pydantic models: new lists and their branding, the
senders' send-check, and the notifications of the mailto and SMS doors."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    WithJsonSchema,
)

from chalicelib.core.contracts import Contract, Identifier, absent_when_wrong, patch_of
from chalicelib.core.i18n import SUPPORTED
from chalicelib.domain.branding import check_accent_color, check_logo_url
from chalicelib.domain.consent import CHANNELS, FREQUENCY_ID


def _named(value: str, limit: int = 200) -> str:
    """A name shown on pages and in mail: no control or direction-override characters (a NUL or
    U+202E in a heading is no name)."""
    if not 0 < len(value.strip()) <= limit:
        raise ValueError(f"must be 1-{limit} characters")
    if not value.isprintable():
        raise ValueError("must be printable characters")
    return value.strip()


def _sender_named(value: str) -> str:
    return _named(value, 500)


def _survey_reasons(value: list[str]) -> list[str]:
    from chalicelib.domain.consent import clean_survey_reasons

    return clean_survey_reasons(value) or []


Short = Annotated[str, Field(max_length=500)]
MAX_ADDRESS = 320


class Branding(Contract):
    # Absent: the service's own branding (null is no value).
    sender_name: Annotated[Short, AfterValidator(_sender_named)] = None  # type: ignore[assignment]
    # White button text on it must keep WCAG 2.2 AA contrast (issue 17.7).
    accent_color: Annotated[str, AfterValidator(check_accent_color)] = None  # type: ignore[assignment]
    logo_url: Annotated[Short, AfterValidator(check_logo_url)] = None  # type: ignore[assignment]
    # The exit survey's reasons, in order (see `consent.clean_survey_reasons`); absent: the defaults.
    survey_reasons: Annotated[list[str], AfterValidator(_survey_reasons)] = None  # type: ignore[assignment]


class NewList(Contract):
    """A list to create; `name` is trimmed."""

    list_id: Identifier
    name: Annotated[str, AfterValidator(_named)]
    description: Annotated[str, Field(max_length=2000)] | None = None
    branding: Branding | None = None


# What a PATCH of a list may change: the fields of NewList but its id, with the same checks.
ListPatch = patch_of(NewList, fixed=("list_id",), name="ListPatch")

# Senders: may each recipient be sent to? Each refusal keeps the code it always had.

MAX_RECIPIENTS = 100


def _country(value: str) -> str:
    if not (value.isascii() and value.isalpha()):
        raise ValueError("region must be a two-letter country code")
    return value


Region = Annotated[
    str,
    Field(
        min_length=2,
        max_length=2,
        description="ISO 3166 country of a phone without its country code (default SMS_DEFAULT_REGION)",
    ),
    AfterValidator(_country),
]


class Recipient(Contract):
    """A person (`subscriber_id` or `email`, both naming one), or on sms a phone; other fields come back."""

    model_config = ConfigDict(extra="allow")

    email: Annotated[str, Field(max_length=MAX_ADDRESS, json_schema_extra={"format": "email"})] | None = None
    subscriber_id: Identifier | None = None
    phone: (
        Annotated[
            str,
            Field(
                max_length=32,
                description="channel sms only: E.164 (+66812345678), or national with region; a number that sent STOP answers sms_opted_out",
            ),
        ]
        | None
    ) = None
    region: Region | None = None

    @property
    def names_person(self) -> bool:
        return self.subscriber_id is not None or self.email is not None


class SendCheck(Contract):
    """The body of `POST /v1/send-check`."""

    model_config = ConfigDict(extra="ignore")

    list_id: Identifier
    channel: Literal[CHANNELS] = "email"
    recipients: Annotated[list[Recipient], Field(min_length=1, max_length=MAX_RECIPIENTS)]


SEND_CHECK_CODES = {"list_id": "bad_list", "channel": "bad_channel", "recipients": "bad_batch"}


def send_check_code(field: str) -> str:
    """A refusal's code: a recipient's own field is `bad_recipient`, the rest by top-level field."""
    if field.startswith("recipients["):
        return "bad_recipient"
    return SEND_CHECK_CODES.get(field.split(".")[0].split("[")[0], "bad_request")


# "Less often" instead of leaving: the few frequencies a list's page offers.

MAX_FREQUENCIES = 4
FREQUENCY_LABEL_LIMIT = 80


def _label(value: str) -> str:
    """Trimmed, 1-80 characters, no control characters (it is shown on the page as it is)."""
    if not 0 < len(value.strip()) <= FREQUENCY_LABEL_LIMIT:
        raise ValueError(f"a label must be 1-{FREQUENCY_LABEL_LIMIT} characters")
    if any(ord(c) < 32 for c in value):
        raise ValueError("a label must not hold control characters")
    return value.strip()


Label = Annotated[str, AfterValidator(_label), WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 80})]


class Frequency(Contract):
    id: Annotated[
        str,
        Field(
            pattern=FREQUENCY_ID,
            description="1-32 lower-case letters, digits, '-' or '_' (the page posts `choice=frequency:<id>`)",
        ),
    ]
    label: Label
    labels: (
        Annotated[
            dict[Literal[SUPPORTED], Label],
            WithJsonSchema(
                {
                    "type": "object",
                    "description": "the label per page language",
                    "properties": {
                        language: {"type": "string", "minLength": 1, "maxLength": 80} for language in SUPPORTED
                    },
                    "additionalProperties": False,
                }
            ),
        ]
        | None
    ) = None


def _unique(frequencies: list[Frequency]) -> list[Frequency]:
    seen = set()
    for frequency in frequencies:
        if frequency.id in seen:
            raise ValueError(f"the frequency id {frequency.id} is given twice")
        seen.add(frequency.id)
    return frequencies


class Frequencies(Contract):
    """The body of `PUT /v1/lists/{list_id}/frequencies`: at most 4, ids unique (none: offer none)."""

    frequencies: Annotated[list[Frequency], Field(max_length=MAX_FREQUENCIES), AfterValidator(_unique)]

    def as_stored(self) -> list[dict]:
        """As the list keeps them (and the page reads them): `labels` only when some are given."""
        return [
            {"id": f.id, "label": f.label, **({"labels": dict(f.labels)} if f.labels else {})} for f in self.frequencies
        ]


# Operators: a subscriber added by hand, or looked up by address (never in a URL).

Address = Annotated[str, Field(max_length=MAX_ADDRESS, json_schema_extra={"format": "email"})]


class NewSubscriber(Contract):
    """The body of `POST /v1/lists/{list_id}/subscribers`. Only the JSON `true` resubscribes
    someone who left; a value that is no JSON boolean is refused, so a sender's "yes" is never
    read as consent or silently as none."""

    model_config = ConfigDict(extra="ignore")

    email: Address
    resubscribe: bool = False  # strict: "yes", 1 or null is a 400, never a silent "no"


class SubscriberLookup(Contract):
    """The body of `POST /v1/subscribers/find`."""

    model_config = ConfigDict(extra="ignore")

    email: Address


SCHEMAS = {
    model.__name__: model for model in (NewList, ListPatch, SendCheck, Frequencies, NewSubscriber, SubscriberLookup)
}


# The doors an opt-out comes through by itself (events, never HTTP): read leniently, since what
# AWS delivers is dropped, never refused: a field of the wrong type reads as absent, and what is
# left decides (a mail or a message nothing can be read from is counted and dropped).


class _Notification(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True, populate_by_name=True)


LooseText = Annotated[str | None, absent_when_wrong(None)]
_Address = Annotated[Annotated[str, Field(max_length=MAX_ADDRESS)] | None, absent_when_wrong(None)]
_ADDRESSES = TypeAdapter(list[_Address])


def _addresses(limit: int):
    """A string, or the strings among the first `limit` entries of a list (each at most 320
    characters); anything else is none."""

    def read(value) -> list[str]:
        match value:
            case str():
                value = [value]
            case list():
                value = value[:limit]
            case _:
                return []
        return [address for address in _ADDRESSES.validate_python(value) if address is not None]

    return BeforeValidator(read)


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None


class Verdict(_Notification):
    """An SES receipt verdict: PASS | FAIL | GRAY | PROCESSING_FAILED (any case)."""

    status: Annotated[LooseText, AfterValidator(_upper)] = None


LooseVerdict = Annotated[Verdict, absent_when_wrong(Verdict())]


class ReceivedHeaders(_Notification):
    sender: Annotated[list[str], _addresses(2)] = Field([], alias="from")
    subject: Annotated[Annotated[str, Field(max_length=998)] | None, absent_when_wrong(None)] = None


class ReceivedMail(_Notification):
    destination: Annotated[list[str], _addresses(50)] = []
    commonHeaders: Annotated[ReceivedHeaders, absent_when_wrong(ReceivedHeaders())] = ReceivedHeaders()


class Receipt(_Notification):
    recipients: Annotated[list[str], _addresses(50)] = []
    spfVerdict: LooseVerdict = Verdict()
    dkimVerdict: LooseVerdict = Verdict()
    dmarcVerdict: LooseVerdict = Verdict()
    spamVerdict: LooseVerdict = Verdict()
    virusVerdict: LooseVerdict = Verdict()


class ReceivedNotification(_Notification):
    """What an SES receipt rule's SNS action publishes (`content`, the raw message, is not read:
    the token is in the recipient address or the subject)."""

    notificationType: LooseText = None
    mail: Annotated[ReceivedMail, absent_when_wrong(ReceivedMail())] = ReceivedMail()
    receipt: Annotated[Receipt, absent_when_wrong(Receipt())] = Receipt()


RECEIVED = TypeAdapter(Annotated[ReceivedNotification, absent_when_wrong(ReceivedNotification())])


class SmsInbound(_Notification):
    """An AWS End User Messaging SMS two-way message, as its SNS topic gets it."""

    originationNumber: LooseText = None
    destinationNumber: LooseText = None
    messageKeyword: LooseText = None
    messageBody: LooseText = None
    inboundMessageId: LooseText = None
