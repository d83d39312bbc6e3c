"""Page tickets without I/O: a sealed session comes back as it was, for its own session only; a
forged, foreign-key or oversized ticket is no ticket (the click reads the session instead)."""

from dataclasses import replace
from datetime import UTC, datetime

from chalicelib.cancel import contracts, tickets
from chalicelib.domain import cancel as rules
from chalicelib.domain.cancel import Answer, Reason

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def session(comment: str | None = None) -> rules.Session:
    raw = {
        "business": "acme",
        "customer_id": "cus_1",
        "subscription_id": "sub_1",
        "plan": "Pro",
        "price": 1999,
        "currency": "THB",
        "locale": "th",
        "return_url": "https://acme.example/account",
        "effective_date": "2026-12-20",
    }
    opened = rules.open_session(contracts.parse_session_request(raw, NOW.date()), rules.DEFAULT_FLOW, "s1", NOW)
    return replace(opened, answer=Answer(Reason.UNUSED, comment), answered_at=NOW if comment else None, version=3)


def test_a_sealed_session_comes_back_as_it_was_for_its_own_session_only():
    sealed = session("ไม่ค่อยได้ใช้")
    ticket = tickets.seal(sealed)
    assert tickets.unseal(ticket, "s1") == sealed
    assert tickets.unseal(ticket, "s2") is None


def test_a_forged_or_unknown_key_ticket_is_no_ticket():
    ticket = tickets.seal(session())
    key_id, payload, signature = ticket.split(".")
    assert tickets.unseal(f"{key_id}.{payload[:-2]}xx.{signature}", "s1") is None
    assert tickets.unseal(f"nokey.{payload}.{signature}", "s1") is None
    assert tickets.unseal("not a ticket", "s1") is None and tickets.unseal(None, "s1") is None


def test_a_session_too_large_for_a_form_gets_no_ticket():
    assert tickets.seal(session("x" * 5000)) is None  # the click then reads the session
