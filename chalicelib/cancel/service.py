"""The cancellation flow's services: open a session for a business's server, show the hosted
page for a signed link, and apply each click (continue, cancel, accept, undo) as the domain
plans it, committed conditionally; a click plans from the page's sealed ticket (no read), and one
that loses a race is re-planned on the state that won, so 20 simultaneous clicks come to one
outcome. A link that cannot open the flow can still ask the business to mail a new one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from chalicelib.cancel import tickets, webhooks
from chalicelib.core import signed_links
from chalicelib.core.errors import Conflict, Invalid, NotFound, Unavailable
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings
from chalicelib.domain import cancel as rules
from chalicelib.domain.cancel import Change, Session, Settled
from chalicelib.storage import cancel as store
from chalicelib.storage.transactions import TransactionConflict

PAGE_PURPOSE = "cancel-page-v1"
UNDO_PURPOSE = "cancel-undo-v1"
ATTEMPTS = 6


class LinkRefused(Exception):
    """The link cannot open the flow; `session` when it was ours but expired (its return URL)."""

    def __init__(self, session: Session | None):
        super().__init__("link refused")
        self.session = session


@dataclass(frozen=True)
class OpenedSession:
    session_id: str
    url: str
    expires_at: datetime


def _link(purpose: str, session_id: str, expires_at: datetime) -> str:
    settings = get_settings()
    return signed_links.sign(settings.signing_keys, settings.signing_key_id, purpose, (session_id,), expires_at)


def page_path(session: Session) -> str:
    return f"/cancel/{_link(PAGE_PURPOSE, session.session_id, session.link_expires_at)}"


def undo_path(session: Session) -> str:
    return f"/cancel/undo/{_link(UNDO_PURPOSE, session.session_id, session.undo_until())}"


def open_session(request: rules.SessionRequest, now: datetime) -> OpenedSession:
    """A session for `request` (`cancel.contracts.parse_session_request` read it), under the
    business's flow, announced to its webhook."""
    flow = store.load_flow(request.business) or rules.DEFAULT_FLOW
    session = rules.open_session(request, flow, secrets.token_urlsafe(16), now)
    messages = webhooks.messages_for(session, (rules.Event.STARTED,), now)
    store.create_session(session, messages)
    count("CancelSessions", outcome="started")
    webhooks.enqueue(messages)
    url = get_settings().public_base_url + page_path(session)
    return OpenedSession(session.session_id, url, session.link_expires_at)


def save_flow(business: str, flow: rules.Flow) -> rules.Flow:
    store.save_flow(business, flow)
    return flow


def flow_of(business: str) -> rules.Flow:
    return store.load_flow(business) or rules.DEFAULT_FLOW


def _session_id_of(purpose: str, token: str, now: datetime) -> str:
    """The session a link names, when its signature holds and it has not expired (no read)."""
    try:
        return signed_links.verify(get_settings().signing_keys, purpose, 1, token, now).fields[0]
    except signed_links.ExpiredLink as expired:
        count("RejectedInputs", kind="cancel_link_expired")
        raise LinkRefused(store.load_session(expired.link.fields[0])) from expired
    except signed_links.InvalidLink as error:
        logger.info("rejected cancel link", extra={"why": str(error)})
        count("RejectedInputs", kind="cancel_link")
        raise LinkRefused(None) from error


def _session_of(purpose: str, token: str, now: datetime, ticket: str | None = None) -> Session:
    """The session behind a link: from the page's ticket when it verifies (no read), else read."""
    session_id = _session_id_of(purpose, token, now)
    session = tickets.unseal(ticket, session_id) if ticket else None
    session = session or store.load_session(session_id)
    if session is None:
        raise NotFound("unknown_session", "this cancellation session does not exist any more")
    return session


def view(token: str, now: datetime) -> Session:
    """The session behind a page link (one read; GET changes nothing)."""
    return _session_of(PAGE_PURPOSE, token, now)


def _apply(session: Session, plan, now: datetime) -> Session:
    """Commit what `plan(session)` gives; on a lost race, plan again on the session that won
    (handed back by the failed condition, so a double click costs no extra read)."""
    for _ in range(ATTEMPTS):
        step = plan(session)
        if isinstance(step, Settled):
            return step.session
        try:
            messages = webhooks.messages_for(step.session, step.events, now)
            current = store.commit(step, messages)
            if current is None:
                _committed(step, messages)
                return step.session
            session = current
            continue
        except TransactionConflict:
            pass
        session = store.load_session(session.session_id) or session
    raise Unavailable("busy", "the session is being changed by another request; try again", retry_after=1)


def _committed(change: Change, messages: list[dict]) -> None:
    if change.session.status is not rules.Status.OPEN:
        count("CancelSessions", outcome=str(change.session.status))
    webhooks.enqueue(messages)


def set_webhook(business: str, url: str) -> dict:
    """Point the business's webhooks at `url` with a new signing secret (answered once; the
    previous secret keeps verifying until the next rotation)."""
    secrets_now = store.save_webhook(business, webhooks.check_url(url), webhooks.new_secret())
    return {"url": url, "secret": secrets_now[0], "previous_secret_valid": len(secrets_now) > 1}


def act(token: str, action: str, form: dict[str, str], now: datetime) -> Session:
    """A click on the hosted page: `continue` (answer, then the one routed offer or a
    cancellation), `cancel` (at once), `accept` (the offer shown)."""
    session = _session_of(PAGE_PURPOSE, token, now, form.get("ticket"))
    try:
        answer = rules.parse_answer(session.flow, form.get("reason"), form.get("comment"))
    except rules.CancelRuleError as error:
        raise Invalid("bad_answer", str(error)) from error
    try:
        if action == "continue":
            return _apply(session, lambda s: rules.plan_continue(s, answer, now), now)
        if action == "cancel":
            return _apply(session, lambda s: rules.plan_cancel(s, answer, now), now)
        if action == "accept":
            offer_id = form.get("offer_id") or ""
            return _apply(session, lambda s: rules.plan_accept(s, offer_id, now), now)
    except rules.Refused as refused:
        raise Conflict(refused.code, str(refused)) from refused
    raise Invalid("bad_action", "action is continue, cancel or accept")


def undo(token: str, now: datetime, ticket: str | None = None) -> Session:
    session = _session_of(UNDO_PURPOSE, token, now, ticket)
    try:
        return _apply(session, lambda s: rules.plan_undo(s, now), now)
    except rules.Refused as refused:
        raise Conflict(refused.code, str(refused)) from refused


@dataclass(frozen=True)
class LinkRequest:
    """What came of "mail me a new link": the session (None when the link names none of ours)
    and whether the request was sent to the business (False: asked too recently or too often)."""

    session: Session | None
    requested: bool


def request_new_link(token: str, now: datetime) -> LinkRequest:
    """Ask the business to mail a new link for the session a page link names, even an expired or
    damaged one: the request only makes the business write to its own customer, rate-limited."""
    fields = signed_links.claimed_fields(token, 1)
    session = store.load_session(fields[0]) if fields else None
    if session is None:
        count("RejectedInputs", kind="cancel_link_request")
        return LinkRequest(None, False)
    messages = webhooks.link_request_messages(session, now)
    requested = store.record_link_request(session, now, rules.link_request_limit(now), messages)
    count("CancelLinkRequests", outcome="sent" if requested else "limited")
    if requested:
        webhooks.enqueue(messages)
    return LinkRequest(session, requested)


def new_link_path(token: str) -> str | None:
    """Where a page's "mail me a new link" posts, for a token that names a session id."""
    return f"/cancel/new-link/{token}" if signed_links.claimed_fields(token, 1) else None


def export_customer(business: str, customer_id: str) -> list[dict]:
    """Every session of the customer with the business: reasons, offer shown, choice, times."""
    return [webhooks.record_of(session) for session in store.sessions_of_customer(business, customer_id)]


def erase_customer(business: str, customer_id: str) -> dict:
    return {"business": business, "sessions_erased": store.erase_customer(business, customer_id)}
