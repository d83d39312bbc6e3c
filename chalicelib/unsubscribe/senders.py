"""What senders ask before and while sending: the headers to set, and who may be sent to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.core.errors import Invalid
from chalicelib.core.ids import InvalidEmail, is_id, subscriber_id_for
from chalicelib.core.settings import get_settings
from chalicelib.domain import consent
from chalicelib.storage import lists, subscribers
from chalicelib.unsubscribe.headers import UnsubscribeHeaders, build_headers

if TYPE_CHECKING:
    from chalicelib.unsubscribe.contracts import Recipient, SendCheck


def _recipient(recipient) -> Recipient:
    """A recipient as `contracts.Recipient` reads it (`bad_recipient` naming the field)."""
    from chalicelib.core.contracts import validate
    from chalicelib.unsubscribe.contracts import Recipient

    return recipient if isinstance(recipient, Recipient) else validate(Recipient, recipient, "bad_recipient")


def resolve_subscriber(recipient) -> str:
    """A recipient is named by `subscriber_id`, or by `email` (mapped to the same opaque id)."""
    recipient = _recipient(recipient)
    if recipient.subscriber_id is not None:
        if recipient.email is not None and _id_of_email(recipient.email) != recipient.subscriber_id:
            # Both named, and they are two people: answering for either would be a guess.
            raise Invalid("bad_recipient", "email and subscriber_id name different subscribers")
        return recipient.subscriber_id
    try:
        return subscriber_id_for(get_settings().subscriber_id_key, recipient.email or "")
    except InvalidEmail as error:
        raise Invalid("bad_recipient", "give a subscriber_id or a valid email") from error


def _id_of_email(email: str) -> str | None:
    try:
        return subscriber_id_for(get_settings().subscriber_id_key, email)
    except InvalidEmail:
        return None


def _list_id(value) -> str:
    if not is_id(value):
        raise Invalid("bad_list", "list_id is missing or not valid")
    return value


def headers_for(recipient, list_id, campaign_id=None) -> UnsubscribeHeaders:
    """The RFC 8058 headers for one message to one recipient of one list."""
    list_id = _list_id(list_id)
    if campaign_id is not None and not is_id(campaign_id):
        raise Invalid("bad_campaign", "campaign_id is not valid")
    lists.existing_list(list_id)
    return build_headers(get_settings(), resolve_subscriber(recipient), list_id, campaign_id or "")


def _number(recipient: Recipient, channel: str) -> str | None:
    """A recipient's phone number in E.164, when it names one (SMS only); `region` (or the
    `SMS_DEFAULT_REGION` setting) reads a number written without its country code."""
    from chalicelib.unsubscribe.sms import InvalidPhone, normalize_phone

    if recipient.phone is None:
        return None
    if channel != "sms":
        raise Invalid("bad_recipient", "a phone number is checked on channel sms only")
    region = recipient.region if recipient.region is not None else get_settings().sms_default_region
    try:
        return normalize_phone(recipient.phone, region.upper() if region else None)
    except InvalidPhone as error:
        raise Invalid("bad_recipient", "phone is not a phone number (E.164, or give its region)") from error


def read_send_check(body) -> SendCheck:
    """The send-check body as `contracts.SendCheck` reads it: `bad_list`, `bad_channel`,
    `bad_batch` or `bad_recipient`, naming the field."""
    from pydantic import ValidationError

    from chalicelib.core.contracts import describe
    from chalicelib.unsubscribe.contracts import SendCheck, send_check_code

    try:
        return SendCheck.model_validate(body)
    except ValidationError as error:
        field, message = describe(error)
        raise Invalid(send_check_code(field), message) from None


def check_recipients(list_id, channel, recipients, now: datetime | None = None) -> list[dict]:
    """May each recipient be sent to on `channel` for `list_id`? Answers in the order asked.

    On SMS a recipient may name a phone number, alone or with the person: a number that sent
    STOP is not allowed (`sms_opted_out`); a number alone says nothing about the list, so it is
    allowed unless it opted out (`number_not_opted_out`)."""
    return check(read_send_check({"list_id": list_id, "channel": channel, "recipients": recipients}), now)


def check(request: SendCheck, now: datetime | None = None) -> list[dict]:
    """`check_recipients` for a body already read."""
    from chalicelib.unsubscribe.sms import phone_id

    list_id, channel, recipients = request.list_id, request.channel, request.recipients
    numbers = [_number(r, channel) for r in recipients]
    ids = [
        resolve_subscriber(r) if number is None or r.names_person else None
        for r, number in zip(recipients, numbers, strict=True)
    ]
    key = get_settings().subscriber_id_key
    number_ids = [phone_id(key, number) if number else None for number in numbers]
    lists.existing_list(list_id)
    people = list(dict.fromkeys(sid for sid in ids if sid))
    found, profiles = subscribers.permission_records(list_id, people) if people else ({}, {})
    opted_out = subscribers.sms_opted_out([n for n in number_ids if n])
    now = now or datetime.now(UTC)
    answers = []
    for recipient, sid, number, number_id in zip(recipients, ids, numbers, number_ids, strict=True):
        answer = {**recipient.model_dump(exclude_unset=True), **({"phone": number} if number else {})}
        if sid is not None:
            answer["subscriber_id"] = sid
        answer["frequency"] = getattr(found.get(sid), "frequency", None)  # "less often": for the sender to honour
        if number_id in opted_out:
            answers.append({**answer, "allowed": False, "reason": "sms_opted_out"})
            continue
        if sid is None:
            answers.append({**answer, "allowed": True, "reason": "number_not_opted_out"})
            continue
        subscription, profile = found.get(sid), profiles.get(sid)
        permission = consent.may_send(
            subscription.status if subscription else None,
            subscription.paused_until if subscription else None,
            bool(profile and profile.opted_out_all),
            set(profile.suppressed_channels or ()) if profile else set(),
            channel,
            now,
        )
        answers.append({**answer, "allowed": permission.allowed, "reason": permission.reason})
    return answers
