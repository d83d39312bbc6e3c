"""Till tickets: what a till learnt about a code, signed, so its next step needs no read.

A code's terms, till rules, campaign and expiry never change after issue; its redemption
changes only by redeeming or rolling back. Validation hands the till those facts sealed with a
key only the service holds; the redemption (and the rollback, with the ticket the redemption
answered) sends the ticket back and is one conditional transaction: if the code changed since,
the transaction fails, hands back the code as it is, and the rules are applied to that. A
ticket that does not verify is ignored (the code is read instead)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

from chalicelib.core.settings import get_settings
from chalicelib.domain.coupons import CodeState, OfferKind, Redeemed, Terms, TillRules

MAX_TICKET = 4096


def _key() -> bytes:
    return hmac.new(get_settings().ip_hash_key, b"offboard till ticket v1", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(code: CodeState) -> str:
    terms, rules, redeemed = code.terms, code.rules, code.redeemed
    facts = {
        "c": code.code,
        "s": code.site_key,
        "k": code.campaign_id,
        "v": code.variant_id,
        "t": [str(terms.kind), terms.percent, terms.amount, terms.currency, terms.max_discount],
        "r": {**rules.__dict__, "channels": list(rules.channels), "store_ids": list(rules.store_ids)},
        "e": code.expires_at.isoformat(),
        "b": list(code.rollbacks),
    }
    if redeemed is not None:
        facts["d"] = {**redeemed.__dict__, "at": redeemed.at.isoformat(), "channel": str(redeemed.channel)}
    payload = _b64(json.dumps(facts, separators=(",", ":")).encode())
    return f"{payload}.{_b64(hmac.new(_key(), payload.encode(), hashlib.sha256).digest())}"


def unseal(ticket: str | None, code: str) -> CodeState | None:
    """The code's facts as sealed; None when the ticket is malformed, forged or for another code."""
    if ticket is None or len(ticket) > MAX_TICKET or ticket.count(".") != 1:
        return None
    payload, signature = ticket.split(".")
    expected = _b64(hmac.new(_key(), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature, expected):
        return None
    facts = json.loads(_unb64(payload))
    if facts["c"] != code:
        return None
    kind, percent, amount, currency, max_discount = facts["t"]
    rules = {**facts["r"], "channels": tuple(facts["r"]["channels"]), "store_ids": tuple(facts["r"]["store_ids"])}
    redeemed = None
    if "d" in facts:
        redeemed = Redeemed(**{**facts["d"], "at": datetime.fromisoformat(facts["d"]["at"])})
    return CodeState(
        facts["c"],
        facts["s"],
        facts["k"],
        facts["v"],
        Terms(OfferKind(kind), percent, amount, currency, max_discount),
        TillRules(**rules),
        datetime.fromisoformat(facts["e"]).astimezone(UTC),
        redeemed,
        tuple(facts["b"]),
    )
