"""Opaque identifiers: ids in URLs and keys, a subscriber id derived from the address, hashed
client IPs, time-ordered event keys, and the shard a subscriber's writes spread to."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import zlib
from datetime import datetime

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
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
    if len(address) > 254 or not _EMAIL.match(address):
        raise InvalidEmail("not a valid email address")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


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
