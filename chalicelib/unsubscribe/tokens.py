"""Signed unsubscribe tokens: `kid.subscriber.list.campaign.signature`.

The signature is HMAC-SHA256 over the other parts, so a token carries no personal data and
no expiry: a link keeps working for as long as its key id stays in the key set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from chalicelib.core.ids import ID_PATTERN

_SIGNATURE_LENGTH = 43  # base64url of 32 bytes, unpadded
# The campaign of the sunset job's re-permission email's links: its one-click leaves every list
# that email named.
SUNSET_CAMPAIGN = "sunset"


class InvalidToken(ValueError):
    """The token is malformed, tampered with, or signed by a key we do not hold."""


@dataclass(frozen=True)
class UnsubscribeToken:
    key_id: str
    subscriber_id: str
    list_id: str
    campaign_id: str = ""


def _signature(key: bytes, token: UnsubscribeToken) -> str:
    message = "|".join(("v1", token.key_id, token.subscriber_id, token.list_id, token.campaign_id))
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(keys: dict[str, bytes], key_id: str, subscriber_id: str, list_id: str, campaign_id: str = "") -> str:
    for value in (key_id, subscriber_id, list_id):
        if not ID_PATTERN.match(value):
            raise ValueError(f"not a valid id: {value!r}")
    if campaign_id and not ID_PATTERN.match(campaign_id):
        raise ValueError(f"not a valid campaign id: {campaign_id!r}")
    token = UnsubscribeToken(key_id, subscriber_id, list_id, campaign_id)
    return ".".join((key_id, subscriber_id, list_id, campaign_id, _signature(keys[key_id], token)))


def verify(keys: dict[str, bytes], raw: str) -> UnsubscribeToken:
    parts = raw.split(".") if isinstance(raw, str) and len(raw) <= 300 else []
    if len(parts) != 5:
        raise InvalidToken("malformed")
    key_id, subscriber_id, list_id, campaign_id, signature = parts
    if not all(ID_PATTERN.match(p) for p in (key_id, subscriber_id, list_id)):
        raise InvalidToken("malformed")
    if campaign_id and not ID_PATTERN.match(campaign_id):
        raise InvalidToken("malformed")
    if len(signature) != _SIGNATURE_LENGTH:
        raise InvalidToken("malformed")
    key = keys.get(key_id)
    if key is None:
        raise InvalidToken("unknown key")
    token = UnsubscribeToken(key_id, subscriber_id, list_id, campaign_id)
    if not hmac.compare_digest(_signature(key, token), signature):
        raise InvalidToken("bad signature")
    return token


def verify_link(raw: str) -> UnsubscribeToken:
    """The token of a link we sent, verified with the configured keys; `Invalid` otherwise
    (logged without the token, counted)."""
    from chalicelib.core.errors import Invalid
    from chalicelib.core.observability import count, logger
    from chalicelib.core.settings import get_settings

    try:
        token = verify(get_settings().signing_keys, raw)
    except InvalidToken as error:
        logger.info("rejected unsubscribe token", extra={"why": str(error)})
        count("RejectedInputs", kind="token")
        raise Invalid("invalid_token", "the unsubscribe link is not valid") from error
    logger.thread_safe_append_keys(token_kid=token.key_id, list_id=token.list_id)
    return token


def link_and_list(raw: str):
    """A link's verified token and the list it names (`UnknownList` when that list is gone):
    what every page of a link starts with."""
    from chalicelib.storage import lists  # PynamoDB: only the routes that read lists pay for it

    token = verify_link(raw)
    return token, lists.existing_list(token.list_id)


# The mailto's compact form: `<kid>.<subscriber>.<signature>` in the local part of the address
# (`unsubscribe+k1.abcd….wxyz@example.com`), which holds at most 64 octets (RFC 5321), so the
# full token does not fit. The subscriber is the derived id without its leading `s` (24 base32
# characters); the signature is HMAC-SHA256 over the key id, the subscriber and the list,
# truncated to 80 bits (16 base32 characters). The list is not written: the receiver tries the
# subscriber's own lists, so only a list the person has a record for can match. Lower-case
# base32 survives mail systems that change the case of a local part.
MAILTO_SUBSCRIBER = re.compile(r"^s([a-z2-7]{24})\Z")
_MAILTO_TOKEN = re.compile(r"^([A-Za-z0-9]{1,16})\.([a-z2-7]{24})\.([a-z2-7]{16})\Z")


def _mailto_signature(key: bytes, key_id: str, subscriber_id: str, list_id: str) -> str:
    message = "|".join(("mailto-v1", key_id, subscriber_id, list_id))
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()[:10]
    return base64.b32encode(digest).decode().lower()


def sign_mailto(keys: dict[str, bytes], key_id: str, subscriber_id: str, list_id: str) -> str | None:
    """The compact token for the mailto's local part, or None when the subscriber id is not a
    derived one (then the full token goes in the subject instead)."""
    found = MAILTO_SUBSCRIBER.match(subscriber_id)
    if not found or not ID_PATTERN.match(list_id) or not key_id.isalnum() or len(key_id) > 16:
        return None
    return ".".join((key_id, found.group(1), _mailto_signature(keys[key_id], key_id, subscriber_id, list_id)))


@dataclass(frozen=True)
class MailtoToken:
    key_id: str
    subscriber_id: str
    signature: str


def parse_mailto(keys: dict[str, bytes], raw: str) -> MailtoToken:
    """The parts of a compact token (the case of the key id as our keys spell it); the list is
    checked by `mailto_list`."""
    found = _MAILTO_TOKEN.match(raw.lower() if isinstance(raw, str) else "")
    if not found:
        raise InvalidToken("malformed")
    key_id = next((kid for kid in keys if kid.lower() == found.group(1)), None)
    if key_id is None:
        raise InvalidToken("unknown key")
    return MailtoToken(key_id, "s" + found.group(2), found.group(3))


def mailto_list(keys: dict[str, bytes], token: MailtoToken, list_ids) -> str:
    """The one of `list_ids` the token was signed for; InvalidToken when none is."""
    key = keys[token.key_id]
    for list_id in list_ids:
        if hmac.compare_digest(_mailto_signature(key, token.key_id, token.subscriber_id, list_id), token.signature):
            return list_id
    raise InvalidToken("bad signature")


FULL_TOKEN = re.compile(
    r"[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{0,64}\.[A-Za-z0-9_-]{43}"
)
