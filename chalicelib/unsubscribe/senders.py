"""What senders ask before and while sending: the headers to set, and who may be sent to."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.core import consent
from chalicelib.core.errors import Invalid, NotFound
from chalicelib.core.ids import InvalidEmail, is_id, subscriber_id_for
from chalicelib.core.settings import get_settings
from chalicelib.storage import lists, subscribers
from chalicelib.unsubscribe.headers import UnsubscribeHeaders, build_headers

MAX_BATCH = 100


def resolve_subscriber(recipient) -> str:
    """A recipient is named by `subscriber_id`, or by `email` (mapped to the same opaque id)."""
    if not isinstance(recipient, dict):
        raise Invalid("bad_recipient", "each recipient must be an object")
    sid = recipient.get("subscriber_id")
    if sid is not None:
        if not is_id(sid):
            raise Invalid("bad_recipient", "subscriber_id is not valid")
        return sid
    email = recipient.get("email")
    try:
        return subscriber_id_for(get_settings().subscriber_id_key, email if isinstance(email, str) else "")
    except InvalidEmail as error:
        raise Invalid("bad_recipient", "give a subscriber_id or a valid email") from error


def _list_id(value) -> str:
    if not is_id(value):
        raise Invalid("bad_list", "list_id is missing or not valid")
    return value


def _existing_list(list_id: str) -> None:
    if lists.get_list(list_id) is None:
        raise NotFound("unknown_list", "this list does not exist")


def headers_for(recipient, list_id, campaign_id=None) -> UnsubscribeHeaders:
    """The RFC 8058 headers for one message to one recipient of one list."""
    list_id = _list_id(list_id)
    if campaign_id is not None and not is_id(campaign_id):
        raise Invalid("bad_campaign", "campaign_id is not valid")
    _existing_list(list_id)
    return build_headers(get_settings(), resolve_subscriber(recipient), list_id, campaign_id or "")


def check_recipients(list_id, channel, recipients, now: datetime | None = None) -> list[dict]:
    """May each recipient be sent to on `channel` for `list_id`? Answers in the order asked."""
    list_id = _list_id(list_id)
    if not isinstance(channel, str) or channel not in consent.CHANNELS:
        raise Invalid("bad_channel", f"channel must be one of {', '.join(consent.CHANNELS)}")
    if not isinstance(recipients, list) or not 1 <= len(recipients) <= MAX_BATCH:
        raise Invalid("bad_batch", f"recipients must be a list of 1 to {MAX_BATCH} entries")
    ids = [resolve_subscriber(r) for r in recipients]
    _existing_list(list_id)
    found, profiles = subscribers.permission_records(list_id, list(dict.fromkeys(ids)))
    now = now or datetime.now(UTC)
    answers = []
    for recipient, sid in zip(recipients, ids, strict=True):
        subscription, profile = found.get(sid), profiles.get(sid)
        permission = consent.may_send(
            subscription.status if subscription else None,
            subscription.paused_until if subscription else None,
            bool(profile and profile.opted_out_all),
            set(profile.suppressed_channels or ()) if profile else set(),
            channel,
            now,
        )
        answers.append({**recipient, "subscriber_id": sid, "allowed": permission.allowed, "reason": permission.reason})
    return answers
