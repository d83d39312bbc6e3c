"""Signatures on the webhooks we send, in Stripe's scheme: header
`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`; a receiver refuses a timestamp
outside the tolerance, so a captured request cannot be replayed later."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Offboard-Signature"
TOLERANCE_SECONDS = 300


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(secrets: list[str], header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: any `v1` matching any of its secrets (rotation), timestamp in tolerance."""
    parts = [p.partition("=") for p in (header or "").split(",")]
    # ASCII digits and hex only: int() reads "²" as no number and compare_digest refuses non-ASCII text.
    stamps = [v for k, _, v in parts if k == "t" and v.isascii() and v.isdigit()]
    signatures = [v for k, _, v in parts if k == "v1" and v.isascii()]
    if len(stamps) != 1 or abs(now - int(stamps[0])) > tolerance:
        return False
    expected = [_digest(s, int(stamps[0]), body) for s in secrets]
    return any(hmac.compare_digest(e, s) for e in expected for s in signatures)
