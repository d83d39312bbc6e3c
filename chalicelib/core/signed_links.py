"""Signed, expiring link tokens: `kid.field….expires.signature`, HMAC-SHA256 under the same key
set (and rotation) as unsubscribe links, each use separated by a purpose string so a token of
one kind is never accepted as another."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.core.ids import ID_PATTERN

_SIGNATURE_LENGTH = 43  # base64url of 32 bytes, unpadded


class InvalidLink(ValueError):
    """Malformed, tampered with, signed by a key we do not hold, or expired."""


class ExpiredLink(InvalidLink):
    """Signed by us, but past its time: `link` says what it was for."""

    def __init__(self, link: SignedLink):
        super().__init__("expired")
        self.link = link


@dataclass(frozen=True)
class SignedLink:
    key_id: str
    fields: tuple[str, ...]
    expires_at: datetime


def _signature(key: bytes, purpose: str, key_id: str, fields: tuple[str, ...], expires: int) -> str:
    message = "|".join((purpose, key_id, *fields, str(expires)))
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(keys: dict[str, bytes], key_id: str, purpose: str, fields: tuple[str, ...], expires_at: datetime) -> str:
    for value in (key_id, *fields):
        if not ID_PATTERN.match(value):
            raise ValueError(f"not a valid id: {value!r}")
    expires = int(expires_at.timestamp())
    return ".".join((key_id, *fields, str(expires), _signature(keys[key_id], purpose, key_id, fields, expires)))


def verify(keys: dict[str, bytes], purpose: str, field_count: int, raw: str, now: datetime) -> SignedLink:
    """The link's parts when its signature holds and it has not expired; InvalidLink otherwise
    (the reason in its message, for logs only)."""
    parts = raw.split(".") if isinstance(raw, str) and len(raw) <= 400 else []
    if len(parts) != field_count + 3:
        raise InvalidLink("malformed")
    key_id, *fields, expires, signature = parts
    if not all(ID_PATTERN.match(p) for p in (key_id, *fields)) or not expires.isdigit() or len(expires) > 12:
        raise InvalidLink("malformed")
    if len(signature) != _SIGNATURE_LENGTH:
        raise InvalidLink("malformed")
    key = keys.get(key_id)
    if key is None:
        raise InvalidLink("unknown key")
    if not hmac.compare_digest(_signature(key, purpose, key_id, tuple(fields), int(expires)), signature):
        raise InvalidLink("bad signature")
    link = SignedLink(key_id, tuple(fields), datetime.fromtimestamp(int(expires), UTC))
    if link.expires_at <= now:
        raise ExpiredLink(link)
    return link


def claimed_fields(raw, field_count: int) -> tuple[str, ...] | None:
    """The fields a token names, NOT verified: only for a door that is harmless whoever knocks
    (asking the business to mail its own customer a new link), never to act on a session."""
    parts = raw.split(".") if isinstance(raw, str) and len(raw) <= 400 else []
    fields = tuple(parts[1:-2]) if len(parts) == field_count + 3 else ()
    return fields if fields and all(ID_PATTERN.match(f) for f in fields) else None
