"""The outcome reaches the business: each session event becomes a signed webhook (Stripe's
scheme, `core.webhook_signature`) queued on SQS and delivered by `deliver`, once per event id.

Event ids are derived from the session and the event (`evt_<session>_<event>`), so queueing an
event twice never makes two events; the delivery record in storage lets one worker send it at a
time and none after a 2xx. A failed attempt is queued again with a growing delay (SQS
`DelaySeconds`, at most 15 minutes) and after `MAX_ATTEMPTS` goes to the dead-letter queue,
from which `python -m tools.cli replay-queue DLQ_URL QUEUE_URL` puts it back.
"""

from __future__ import annotations

import json
import random
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from chalicelib.core.errors import Invalid
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings
from chalicelib.core.webhook_signature import HEADER, signature_header
from chalicelib.domain.cancel import Event, Session
from chalicelib.storage import cancel as store

MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10
LEASE = timedelta(seconds=TIMEOUT_SECONDS * 3)  # longer than one attempt can take
MAX_DELAY_SECONDS = 900  # SQS DelaySeconds' limit
BACKOFF_BASE_SECONDS = 5


def event_id(session_id: str, event: Event) -> str:
    return f"evt_{session_id}_{event.value.rsplit('.', 1)[1]}"


def record_of(session: Session) -> dict:
    """What happened in a session, as the business sees it (webhooks, exports)."""
    request = session.request
    answer = session.answer
    return {
        "id": session.session_id,
        "business": request.business,
        "customer_id": request.customer_id,
        "subscription_id": request.subscription_id,
        "plan": request.plan,
        "price": request.price,
        "currency": request.currency,
        "status": str(session.status),
        "effective_date": request.effective_date.isoformat(),
        "reason": str(answer.reason) if answer.reason else None,
        "comment": answer.comment,
        "arm": session.arm,
        "offer": session.offer.to_raw() if session.offer else None,
        "offer_shown_at": session.offer_shown_at.isoformat() if session.offer_shown_at else None,
        "decided_at": session.decided_at.isoformat() if session.decided_at else None,
        "undone_at": session.undone_at.isoformat() if session.undone_at else None,
        "created_at": session.created_at.isoformat(),
    }


def payload(session: Session, event: Event, now: datetime) -> dict:
    return {
        "id": event_id(session.session_id, event),
        "type": str(event),
        "created": int(now.timestamp()),
        "data": {"object": record_of(session)},
    }


def _message(session: Session, event: dict, now: datetime) -> dict:
    return {
        "session_id": session.session_id,
        "attempt": 1,
        "outbox": store.outbox_key(event["id"], now),
        "event": event,
    }


def messages_for(session: Session, events: tuple[Event, ...], now: datetime) -> list[dict]:
    """The queue messages for a change's events, each naming its outbox entry."""
    return [_message(session, payload(session, e, now), now) for e in events]


def link_request_messages(session: Session, now: datetime) -> list[dict]:
    """The person asks for a new link: the business mails its customer one (a new session). A
    session may ask again after the rate limit's interval, so the id carries the second; the
    limit's condition makes that id unique."""
    event = payload(session, Event.LINK_REQUESTED, now)
    return [_message(session, {**event, "id": f"{event['id']}_{int(now.timestamp())}"}, now)]


def enqueue(messages: list[dict]) -> bool:
    """Queue messages whose outbox entries are committed. A queue outage is logged and counted,
    never an error for the person: the outbox keeps the events for `flush_outbox`."""
    url = get_settings().cancel_webhook_queue_url
    if not url or not messages:
        return False
    from chalicelib.core.aws import send_messages

    try:
        send_messages(url, messages)
    except Exception:  # noqa: BLE001  (counted; the outbox keeps the events)
        logger.exception("could not queue cancel webhooks")
        count("CancelWebhookQueueFailures")
        return False
    return True


def flush_outbox(now: datetime, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Queue the outbox entries older than `older_than` (their first queueing failed, or their
    worker never settled them); a repeat is harmless, the delivery record sends an event once."""
    messages = store.outbox_older_than(now - older_than)
    if messages and not enqueue(messages):
        raise RuntimeError("the webhook queue is not reachable")
    return len(messages)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def check_url(text: str) -> str:
    """A business's public https endpoint: no credentials, no control characters or spaces, no
    address inside a network (loopback, private, link-local such as 169.254.169.254, reserved).
    In the dev stage, http to this machine is allowed for run-local's receiver."""
    refuse = Invalid("invalid_webhook_url", "the webhook URL must be a public https URL, at most 500 characters")
    if (
        not text
        or len(text) > 500
        or not text.isascii()
        or any(c.isspace() or ord(c) < 32 or c == "\x7f" for c in text)
    ):
        raise refuse
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises on a port that is no number)
    except ValueError as error:
        raise refuse from error
    host = (parts.hostname or "").rstrip(".")
    local = parts.scheme == "http" and host in ("127.0.0.1", "localhost") and get_settings().stage == "dev"
    if local:
        return text
    if parts.scheme != "https" or not host or parts.username is not None or parts.password is not None:
        raise refuse
    if host == "localhost" or host.endswith((".localhost", ".internal", ".local")) or not _public_host(host):
        raise refuse
    return text


def _public_host(host: str) -> bool:
    """False for an IP literal that is not a public address; a name is judged when it is resolved."""
    import ipaddress
    import socket

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # the other spellings of IPv4 the resolver accepts: 2130706433, 0x7f000001, 127.1
            address = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return True
    return address.is_global


def _resolves_publicly(host: str) -> bool:
    """Every address the name has now is public (checked at each delivery: a name may be pointed
    at an inner address after it was accepted)."""
    import ipaddress
    import socket

    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, 443, proto=socket.IPPROTO_TCP)}
    except OSError:
        return True  # unresolvable: the POST fails and is retried like any refused connection
    return all(ipaddress.ip_address(a.split("%")[0]).is_global for a in found)


def _post(url: str, body: bytes, signature: str) -> int:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 (https, or http to this machine in dev)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", HEADER: signature, "User-Agent": "offboard-webhooks/1"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _retry(message: dict, why: str) -> bool:
    """Queue the next attempt with its backoff; True when it went to the dead-letter queue."""
    settings = get_settings()
    from chalicelib.core.aws import sqs

    attempt = int(message.get("attempt", 1))
    body = json.dumps({**message, "attempt": attempt + 1, "last_error": why})
    if attempt >= MAX_ATTEMPTS:
        sqs().send_message(QueueUrl=settings.cancel_webhook_dead_letter_url, MessageBody=body)
        count("CancelWebhooksDeadLettered")
        return True
    base = BACKOFF_BASE_SECONDS
    delay = min(MAX_DELAY_SECONDS, base * 2**attempt + random.randint(0, base))  # noqa: S311 (jitter)
    sqs().send_message(QueueUrl=settings.cancel_webhook_queue_url, MessageBody=body, DelaySeconds=delay)
    return False


def deliver(message: dict, now: datetime | None = None) -> str:
    """One queued event: sent at most once at a time, never again after a 2xx. Answers what came
    of it (delivered, already_delivered, retry, no_endpoint); raises when another worker holds it
    (SQS delivers the message again later)."""
    event = message["event"]
    session_id, business = message["session_id"], event["data"]["object"]["business"]
    webhook = store.load_webhook(business)
    if webhook is None:
        count("CancelWebhooks", outcome="no_endpoint")
        _settled(message)
        return "no_endpoint"
    url, secrets_now = webhook
    owner = secrets.token_hex(8)
    now = now or datetime.now(UTC)
    claim = store.claim_delivery(session_id, event["id"], owner, now, LEASE)
    if claim is store.Claim.DELIVERED:
        _settled(message)
        return "already_delivered"
    if claim is store.Claim.BUSY:
        raise RuntimeError(f"event {event['id']} is being delivered by another worker")
    body = json.dumps(event, separators=(",", ":")).encode()
    try:
        host = urlsplit(url).hostname or ""
        if urlsplit(url).scheme == "https" and not _resolves_publicly(host):
            error = f"{host} resolves to an address inside a network: not delivered"
        else:
            status = _post(url, body, signature_header(secrets_now[0], body, int(datetime.now(UTC).timestamp())))
            error = None if 200 <= status < 300 else f"HTTP {status}"
    except (OSError, ValueError) as failure:  # refused, reset, timed out; a URL http.client cannot send
        error = f"{type(failure).__name__}: {failure}"
    store.finish_delivery(session_id, event["id"], owner, datetime.now(UTC), error)
    count("CancelWebhooks", outcome="delivered" if error is None else "failed")
    if error is None:
        _settled(message)
        return "delivered"
    if _retry(message, error):
        _settled(message)  # the dead-letter queue holds it now
    return "retry"


def _settled(message: dict) -> None:
    if message.get("outbox"):
        store.clear_outbox(message["outbox"])
