"""Engagement facts from Amazon SES event publishing (SNS or EventBridge) and from the signed
generic webhook, and what each does to a subscription.

Records arrive at least once and out of order: sends count once per message id, engagement only
moves `last_engaged_at` forward, complaints and bounces are conditional. A malformed record is
counted and logged (never its addresses) and the rest of the batch goes on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib.core.errors import Invalid, NotAuthenticated
from chalicelib.core.ids import ID_PATTERN, InvalidEmail, subscriber_id_for
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings

SUBSCRIBER_TAG, LIST_TAG = "offboard-subscriber", "offboard-list"
SCANNER_WINDOW = timedelta(seconds=30)  # link scanners click within seconds of delivery
# Apple Mail Privacy Protection fetches images with exactly this user agent; opens by proxies
# that prefetch every message say nothing about a person.
_MACHINE_OPEN = re.compile(r"^(Mozilla/5\.0)?$")
WEBHOOK_TOLERANCE_SECONDS = 300
MAX_WEBHOOK_EVENTS = 100


@dataclass(frozen=True)
class Fact:
    kind: str  # sent | engaged | complaint | hard_bounce | soft_bounce | unsubscribe_all | ignored
    subscriber_id: str | None = None
    list_id: str | None = None
    at: datetime | None = None
    message_id: str | None = None
    why: str | None = None  # for ignored facts


class BadRecord(ValueError):
    pass


def _time(value) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise BadRecord("bad timestamp") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _tag(tags: dict, name: str) -> str | None:
    values = tags.get(name) if isinstance(tags, dict) else None
    value = values[0] if isinstance(values, list) and values else values
    return value if isinstance(value, str) and ID_PATTERN.match(value) else None


def _by_address(address) -> str | None:
    try:
        return subscriber_id_for(get_settings().subscriber_id_key, address)
    except (InvalidEmail, TypeError):
        return None


def parse_ses_record(record) -> list[Fact]:
    """One SES event-publishing record (the SNS message, or EventBridge's `detail`)."""
    if not isinstance(record, dict) or not isinstance(record.get("mail"), dict):
        raise BadRecord("not an SES event record")
    kind, mail = record.get("eventType") or record.get("notificationType"), record["mail"]
    tags = mail.get("tags") or {}
    subscriber, list_id = _tag(tags, SUBSCRIBER_TAG), _tag(tags, LIST_TAG)
    message_id = mail.get("messageId")
    if kind in ("Send", "Delivery"):
        if not (subscriber and list_id and isinstance(message_id, str)):
            return [Fact("ignored", why="untagged")]
        return [Fact("sent", subscriber, list_id, _time(mail.get("timestamp")), message_id)]
    if kind == "Open":
        opened = record.get("open") or {}
        if _MACHINE_OPEN.match(str(opened.get("userAgent") or "")):
            return [Fact("ignored", why="machine_open")]
        if not (subscriber and list_id):
            return [Fact("ignored", why="untagged")]
        return [Fact("engaged", subscriber, list_id, _time(opened.get("timestamp")))]
    if kind == "Click":
        clicked = record.get("click") or {}
        at = _time(clicked.get("timestamp"))
        if at - _time(mail.get("timestamp")) < SCANNER_WINDOW:
            return [Fact("ignored", why="scanner_click")]
        if not (subscriber and list_id):
            return [Fact("ignored", why="untagged")]
        return [Fact("engaged", subscriber, list_id, at)]
    if kind == "Complaint":
        complaint = record.get("complaint") or {}
        at = _time(complaint.get("timestamp") or mail.get("timestamp"))
        people = [
            _by_address(r.get("emailAddress"))
            for r in complaint.get("complainedRecipients") or []
            if isinstance(r, dict)
        ]
        people = [p for p in people if p] or ([subscriber] if subscriber else [])
        return [Fact("complaint", p, list_id, at) for p in people] or [Fact("ignored", why="untagged")]
    if kind == "Bounce":
        bounce = record.get("bounce") or {}
        at = _time(bounce.get("timestamp") or mail.get("timestamp"))
        people = [
            _by_address(r.get("emailAddress")) for r in bounce.get("bouncedRecipients") or [] if isinstance(r, dict)
        ]
        people = [p for p in people if p] or ([subscriber] if subscriber else [])
        kind_of = "hard_bounce" if bounce.get("bounceType") == "Permanent" else "soft_bounce"
        return [Fact(kind_of, p, list_id, at) for p in people] or [Fact("ignored", why="untagged")]
    if kind == "Subscription":
        preferences = (record.get("subscription") or {}).get("newTopicPreferences") or {}
        if preferences.get("unsubscribeAll") and subscriber:
            return [Fact("unsubscribe_all", subscriber, list_id, _time(mail.get("timestamp")))]
        return [Fact("ignored", why="subscription_change")]
    if kind in ("Reject", "Rendering Failure", "DeliveryDelay"):
        return [Fact("ignored", why=str(kind).lower().replace(" ", "_"))]
    raise BadRecord(f"unknown event type {kind!r}")


def next_due(list_id: str, engaged_at: datetime, now: datetime | None = None) -> datetime:
    """When someone who engaged at `engaged_at` is next due for the job: never in the past
    (late events, imported history), since the job reads back only to its last complete run."""
    from chalicelib.sunset.policy import first_due, policy_of

    return max(first_due(policy_of(list_id), engaged_at), now or datetime.now(UTC))


def apply(fact: Fact, now: datetime) -> str:
    """Carry out one fact; returns what happened (for counting)."""
    from chalicelib.storage import subscribers
    from chalicelib.storage.subscribers import AuditContext

    if fact.kind == "ignored":
        return f"ignored_{fact.why}"
    if fact.kind == "sent":
        return f"send_{subscribers.count_send(fact.subscriber_id, fact.list_id, fact.message_id, now)}"
    if fact.kind == "engaged":
        moved = subscribers.record_engagement(
            fact.subscriber_id, fact.list_id, fact.at, next_due(fact.list_id, fact.at)
        )
        return "engaged" if moved else "engaged_stale"
    if fact.kind in ("complaint", "unsubscribe_all"):
        source = "complaint" if fact.kind == "complaint" else "one-click"
        if all(s.status == "unsubscribed" for s in subscribers.subscriptions_of(fact.subscriber_id)):
            return f"{fact.kind}_already"
        subscribers.unsubscribe_all(fact.subscriber_id, AuditContext(source), now)
        return fact.kind
    if fact.kind == "hard_bounce":
        applied = subscribers.suppress_channel(fact.subscriber_id, "email", AuditContext("bounce"), now)
        return "hard_bounce" if applied else "hard_bounce_already"
    if fact.kind == "soft_bounce":
        if subscribers.get_profile(fact.subscriber_id) is None:
            return "soft_bounce_unknown"
        subscribers.count_transient_bounce(fact.subscriber_id)
        return "soft_bounce"
    raise ValueError(fact.kind)


def ingest(records: list, parse=parse_ses_record, now: datetime | None = None) -> Counter:
    """Every record is tried; a storage failure is re-raised after the others are done, so the
    delivery is retried as a whole (each fact is idempotent)."""
    now = now or datetime.now(UTC)
    outcomes: Counter = Counter()
    failure: Exception | None = None
    for record in records:
        try:
            facts = parse(record)
        except (BadRecord, Invalid) as error:
            outcomes["malformed"] += 1
            logger.warning("malformed engagement record", extra={"why": str(error)})
            continue
        for fact in facts:
            try:
                outcomes[apply(fact, now)] += 1
            except Exception as error:  # noqa: BLE001  (keep going; re-raised below)
                outcomes["failed"] += 1
                failure = error
                logger.exception("engagement fact could not be stored", extra={"kind": fact.kind})
    for outcome in outcomes:
        count("EngagementRecords", outcome=outcome)
    logger.info("engagement batch", extra={"outcomes": dict(outcomes)})
    if failure is not None:
        raise failure
    return outcomes


def parse_sns_message(message: str) -> dict:
    try:
        return json.loads(message)
    except (TypeError, ValueError) as error:
        raise BadRecord("the SNS message is not JSON") from error


# The generic webhook: other senders report the same facts, signed.


def verify_webhook(
    body: bytes, timestamp: str | None, signature: str | None, secret: bytes, now: float | None = None
) -> None:
    """`X-Offboard-Signature: sha256=<hex HMAC of "<timestamp>.<body>">`, timestamp within 5 minutes."""
    now = time.time() if now is None else now
    try:
        sent_at = int(timestamp or "")
    except ValueError as error:
        raise NotAuthenticated("bad_signature", "X-Offboard-Timestamp must be Unix seconds") from error
    if abs(now - sent_at) > WEBHOOK_TOLERANCE_SECONDS:
        raise NotAuthenticated("stale_request", "the timestamp is too far from now (replay?)")
    expected = "sha256=" + hmac.new(secret, f"{sent_at}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature or ""):
        raise NotAuthenticated("bad_signature", "the signature does not match the body")


def parse_webhook_event(event) -> list[Fact]:
    """{"type": send|open|click|complaint|bounce, "subscriber_id" or "email", "list_id", "at",
    "message_id" (send), "bounce_type" (bounce: permanent|transient)}."""
    if not isinstance(event, dict):
        raise BadRecord("each event must be an object")
    subscriber = event.get("subscriber_id")
    if subscriber is None:
        subscriber = _by_address(event.get("email"))
    if not isinstance(subscriber, str) or not ID_PATTERN.match(subscriber):
        raise BadRecord("give a subscriber_id or a valid email")
    list_id = event.get("list_id")
    if list_id is not None and (not isinstance(list_id, str) or not ID_PATTERN.match(list_id)):
        raise BadRecord("list_id is not valid")
    at = _time(event.get("at"))
    kind = event.get("type")
    if kind in ("open", "click", "send") and list_id is None:
        raise BadRecord(f"a {kind} needs a list_id")
    if kind == "send":
        message_id = event.get("message_id")
        if not isinstance(message_id, str) or not 0 < len(message_id) <= 200:
            raise BadRecord("a send needs a message_id")
        return [Fact("sent", subscriber, list_id, at, message_id)]
    if kind in ("open", "click"):
        return [Fact("engaged", subscriber, list_id, at)]
    if kind == "complaint":
        return [Fact("complaint", subscriber, list_id, at)]
    if kind == "bounce":
        return [
            Fact("hard_bounce" if event.get("bounce_type") == "permanent" else "soft_bounce", subscriber, list_id, at)
        ]
    raise BadRecord("type must be send, open, click, complaint or bounce")
