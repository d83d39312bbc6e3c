"""Session tickets: the session as the hosted page last showed it, sealed into the page's form,
so the next click plans from it and commits in one conditional write with no read first.

The same idea as the till's tickets (`chalicelib.offers.tickets`): a ticket is only a starting
point. The write is conditional on the ticket's version; if the session moved on meanwhile
(a double click, another tab), the failed condition hands back the session as it is and the
click is planned again on that. A ticket that does not verify, or names another session, is
ignored (the session is read instead). The ticket travels in the POST body, never in a URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from chalicelib.core.settings import get_settings
from chalicelib.domain.cancel import Session
from chalicelib.storage.cancel import session_from_raw, session_to_raw

MAX_TICKET = 6000  # beyond this (a long comment) the page carries none and the click reads instead


def _key(key_id: str) -> bytes | None:
    key = get_settings().signing_keys.get(key_id)
    return hmac.new(key, b"offboard cancel ticket v1", hashlib.sha256).digest() if key else None


def _mac(key: bytes, key_id: str, payload: str) -> str:
    digest = hmac.new(key, f"{key_id}.{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def seal(session: Session) -> str | None:
    """The ticket for the page showing `session`; None when it would be too large for a form."""
    key_id = get_settings().signing_key_id
    facts = json.dumps({"s": session_to_raw(session), "v": session.version}, separators=(",", ":"), ensure_ascii=False)
    payload = base64.urlsafe_b64encode(facts.encode()).rstrip(b"=").decode()
    ticket = f"{key_id}.{payload}.{_mac(_key(key_id), key_id, payload)}"
    return ticket if len(ticket) <= MAX_TICKET else None


def unseal(ticket: str | None, session_id: str) -> Session | None:
    """The session as sealed; None when the ticket is malformed, forged or for another session."""
    if ticket is None or len(ticket) > MAX_TICKET or ticket.count(".") != 2:
        return None
    key_id, payload, signature = ticket.split(".")
    key = _key(key_id)
    if key is None or not hmac.compare_digest(signature, _mac(key, key_id, payload)):
        return None
    facts = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if facts["s"]["id"] != session_id:
        return None
    return session_from_raw(facts["s"], int(facts["v"]))
