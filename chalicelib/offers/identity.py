"""A customer id from a browser is a claim: it counts only with the hash the shop's server signed.

The shop's server renders `HMAC-SHA256(site_secret, customer_id)` (hex) into its page beside the
id; the snippet sends both. An id without a valid hash is ignored: the request is an anonymous
visitor's. A site keeps two secrets while it rotates (the new one first), as with signing keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets as random

MAX_SECRETS = 2


def new_secret() -> str:
    return random.token_urlsafe(32)


def customer_hash(secret: str, customer_id: str) -> str:
    """What the shop's server computes and renders into its page."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def verified_customer(site_secrets, customer_id: str | None, signature: str | None) -> str | None:
    """The customer id when one of the site's secrets signed it, else None (anonymous)."""
    if not customer_id or signature is None or not site_secrets or not signature.isascii():
        return None  # compare_digest refuses non-ASCII text: no hex digest is one anyway
    try:
        customer_id.encode()
    except UnicodeEncodeError:  # a lone surrogate from JSON's \ud800: no shop signed that
        return None
    valid = [hmac.compare_digest(customer_hash(secret, customer_id), signature.lower()) for secret in site_secrets]
    return customer_id if any(valid) else None


def rotated(site_secrets) -> list[str]:
    """A new secret first; the newest old one stays valid until the next rotation."""
    return [new_secret(), *list(site_secrets or [])][:MAX_SECRETS]
