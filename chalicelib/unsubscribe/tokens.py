"""Signed unsubscribe tokens: `kid.subscriber.list.campaign.signature`.

The signature is HMAC-SHA256 over the other parts, so a token carries no personal data and
no expiry: a link keeps working for as long as its key id stays in the key set.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from chalicelib.core.ids import ID_PATTERN

_SIGNATURE_LENGTH = 43  # base64url of 32 bytes, unpadded


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
    logger.append_keys(token_kid=token.key_id, list_id=token.list_id)
    return token
