"""Opaque identifiers: ids in URLs and keys, a subscriber id derived from the address, hashed
client IPs, time-ordered event keys, and the shard a subscriber's writes spread to; and the
addresses other systems write (`John <x@example.com>`), reduced to the strict form stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import zlib
from datetime import datetime

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")  # \Z: no trailing newline
SHARDS = 16

_EMAIL = re.compile(
    r"^[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)


def is_id(value) -> bool:
    return isinstance(value, str) and bool(ID_PATTERN.match(value))


def shard_of(subscriber_id: str) -> int:
    return zlib.crc32(subscriber_id.encode()) % SHARDS


class InvalidEmail(ValueError):
    pass


def normalize_email(address: str) -> str:
    address = (address or "").strip()
    if len(address) > 254 or not address.isprintable() or not _EMAIL.match(address):
        raise InvalidEmail("not a valid email address")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


# The stdlib's RFC 5322 parser is quadratic on some inputs (100 000 quotes take minutes): a header
# line is at most 998 characters (RFC 5322 2.1.1), and no real address field is longer.
MAX_ADDRESS_FIELD = 998
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CR/LF (header injection), NUL...; a tab may fold


def addresses_in(value) -> list[str]:
    """The addresses in an address field as mail systems write it: `x@example.com`,
    `John <x@example.com>`, `"Doe, John" <x@example.com>`, an RFC 2047 encoded display name, or
    several of them separated by commas (SES's `commonHeaders.to`). Each comes back in
    `normalize_email`'s strict form; an address that form refuses is left out. A value that is
    not a clean address list (not a string, too long, control characters, any parse defect such
    as `a@example.org)<b@example.org>`) gives none: guessing could name the wrong person."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ADDRESS_FIELD or _CONTROL.search(value):
        return []
    from email.headerregistry import HeaderRegistry  # ~30 ms: only the paths that read addresses pay

    try:
        field = HeaderRegistry()("to", value)
        if field.defects:
            return []
        specs = [address.addr_spec for address in field.addresses]
    except Exception:  # noqa: BLE001  (untrusted input in the stdlib parser: any failure means "no address")
        return []
    found = []
    for spec in specs:
        try:
            found.append(normalize_email(spec))
        except InvalidEmail:
            continue
    return list(dict.fromkeys(found))


def parse_address(value) -> str:
    """Exactly one address, with or without a display name, in the strict stored form."""
    found = addresses_in(value)
    if len(found) != 1:
        raise InvalidEmail("not exactly one valid email address")
    return found[0]


def subscriber_id_for(key: bytes, email: str) -> str:
    """Stable and opaque: the same address always maps to the same id, and the id reveals nothing.

    Because the id is derived, a suppression record survives erasure of the address itself.
    """
    digest = hmac.new(key, normalize_email(email).encode(), hashlib.sha256).digest()
    return "s" + base64.b32encode(digest[:15]).decode().lower()


def hash_ip(key: bytes, ip: str | None) -> str | None:
    if not ip:
        return None
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()[:32]


def event_key(now: datetime) -> str:
    """Sort key of a consent event: time-ordered, unique, no personal data."""
    return f"EVENT#{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{secrets.token_hex(4)}"
