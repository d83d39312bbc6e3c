"""What senders ask before and while sending: the headers to set, and who may be sent to."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib import consent, tokens
from chalicelib.errors import BadRequest
from chalicelib.headers import UnsubscribeHeaders, build_headers
from chalicelib.identity import InvalidEmail, subscriber_id_for
from chalicelib.settings import get_settings
from chalicelib.storage import lists, subscribers

MAX_BATCH = 100


def resolve_subscriber(recipient: dict) -> str:
    """A recipient is named by `subscriber_id`, or by `email` (mapped to the same opaque id)."""
    if not isinstance(recipient, dict):
        raise BadRequest("bad_recipient", "each recipient must be an object")
    sid = recipient.get("subscriber_id")
    if sid is not None:
        if not isinstance(sid, str) or not tokens.ID_PATTERN.match(sid):
            raise BadRequest("bad_recipient", "subscriber_id is not valid")
        return sid
    try:
        return subscriber_id_for(get_settings().subscriber_id_key, recipient.get("email") or "")
    except (InvalidEmail, TypeError) as error:
        raise BadRequest("bad_recipient", "give a subscriber_id or a valid email") from error


def _list_id(value) -> str:
    if not isinstance(value, str) or not tokens.ID_PATTERN.match(value):
        raise BadRequest("bad_list", "list_id is missing or not valid")
    return value


def headers_for(recipient: dict, list_id: str, campaign_id: str | None = None) -> UnsubscribeHeaders:
    """The RFC 8058 headers for one message to one recipient of one list."""
    list_id = _list_id(list_id)
    if campaign_id is not None and (not isinstance(campaign_id, str) or not tokens.ID_PATTERN.match(campaign_id)):
        raise BadRequest("bad_campaign", "campaign_id is not valid")
    if lists.get_list(list_id) is None:
        raise BadRequest("unknown_list", "this list does not exist", 404)
    return build_headers(get_settings(), resolve_subscriber(recipient), list_id, campaign_id or "")


def check_recipients(list_id: str, channel: str, recipients: list, now: datetime | None = None) -> list[dict]:
    """May each recipient be sent to on `channel` for `list_id`? Answers in the order asked."""
    list_id = _list_id(list_id)
    if channel not in consent.CHANNELS:
        raise BadRequest("bad_channel", f"channel must be one of {', '.join(consent.CHANNELS)}")
    if not isinstance(recipients, list) or not 1 <= len(recipients) <= MAX_BATCH:
        raise BadRequest("bad_batch", f"recipients must be a list of 1 to {MAX_BATCH} entries")
    ids = [resolve_subscriber(r) for r in recipients]
    if lists.get_list(list_id) is None:
        raise BadRequest("unknown_list", "this list does not exist", 404)
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
