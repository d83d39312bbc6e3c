"""Engagement facts from Amazon SES event publishing (SNS or EventBridge) and from the signed
generic webhook, and what each does to a subscription.

Records arrive at least once and out of order: sends count once per message id, engagement only
moves `last_engaged_at` forward, complaints and bounces are conditional. Every field read is
type-checked: a record with a wrongly typed or out-of-range field is malformed, counted and logged
(never its addresses), and the rest of the batch goes on; only storage failures propagate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from chalicelib.core.errors import Invalid, NotAuthenticated
from chalicelib.core.ids import InvalidEmail, addresses_in, parse_address, subscriber_id_for
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings
from chalicelib.sunset.records import (  # noqa: F401  (re-exported)
    EARLIEST,
    FUTURE_TOLERANCE,
    MAX_WEBHOOK_EVENTS,
    BadRecord,
    parse_time,
)

SUBSCRIBER_TAG, LIST_TAG = "offboard-subscriber", "offboard-list"
SCANNER_WINDOW = timedelta(seconds=30)  # link scanners click within seconds of delivery
WEBHOOK_TOLERANCE_SECONDS = 300

# Machine opens say nothing about a person, so they never count as engagement:
# - Apple Mail Privacy Protection pre-fetches every message's images with exactly `Mozilla/5.0`;
# - an open with no user agent at all cannot be told apart from a machine's;
# - image proxies fetch on the reader's behalf and often ahead of any reading: Gmail
#   (`... (via ggpht.com GoogleImageProxy)`) and Yahoo (`YahooMailProxy; https://help.yahoo.com/...`).
APPLE_MPP_USER_AGENT = "Mozilla/5.0"
IMAGE_PROXY_MARKERS = ("googleimageproxy", "ggpht.com", "yahoomailproxy")
NOT_A_COMPLAINT = "not-spam"  # RFC 5965 / IANA MARF feedback type: the reporter says it is not spam


class Kind(StrEnum):
    """What an engagement record says happened."""

    SENT = "sent"
    ENGAGED = "engaged"
    COMPLAINT = "complaint"
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    UNSUBSCRIBE_ALL = "unsubscribe_all"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Fact:
    kind: Kind
    subscriber_id: str | None = None
    list_id: str | None = None
    at: datetime | None = None
    message_id: str | None = None
    why: str | None = None  # for ignored facts


def is_machine_open(user_agent: str | None) -> bool:
    agent = (user_agent or "").strip()
    if agent in ("", APPLE_MPP_USER_AGENT):
        return True
    lowered = agent.lower()
    return any(marker in lowered for marker in IMAGE_PROXY_MARKERS)


def _time(value, what: str) -> datetime:
    """A timestamp the model left unread (`contracts.RawTime`), read now that it is needed."""
    from pydantic import ValidationError

    from chalicelib.sunset.contracts import TIMESTAMP

    if value is None:
        raise BadRecord(f"{what} is not an ISO 8601 timestamp")
    try:
        return TIMESTAMP.validate_python(value)
    except ValidationError:
        raise BadRecord(f"{what} is not an ISO 8601 timestamp") from None


def _when(at: datetime | None, mail, what: str) -> datetime:
    """The event's own timestamp, else the message's."""
    return at if at is not None else _time(mail.timestamp, f"{what}.timestamp")


def _by_address(address: str) -> str | None:
    """The subscriber an address names, display name or not (`John <x@example.com>`)."""
    try:
        return subscriber_id_for(get_settings().subscriber_id_key, parse_address(address))
    except InvalidEmail:
        return None


def _recipients(entries) -> list[str]:
    """`bouncedRecipients` / `complainedRecipients`: [{emailAddress}] -> subscriber ids."""
    people = [_by_address(entry.emailAddress) for entry in entries or () if entry.emailAddress is not None]
    return list(dict.fromkeys(person for person in people if person))


def _addressed_to(mail) -> list[str]:
    """The distinct addresses a message went to: `destination`, else the `To` header."""
    from pydantic import ValidationError

    from chalicelib.sunset.contracts import ADDRESSES, COMMON_HEADERS

    try:
        destination = ADDRESSES.validate_python(mail.destination)
        found = [a for value in destination or () for a in addresses_in(value)]
        if not found:
            headers = COMMON_HEADERS.validate_python(mail.commonHeaders)
            found = [a for value in (headers.to if headers else None) or () for a in addresses_in(value)]
    except ValidationError:
        raise BadRecord("mail.destination or mail.commonHeaders.to is not a list of addresses") from None
    return list(dict.fromkeys(found))


def _read_ses_record(record):
    """The record as its event type's model (`contracts.SesRecord`); BadRecord naming the field."""
    from pydantic import ValidationError

    from chalicelib.core.contracts import describe
    from chalicelib.sunset.contracts import SES_RECORD

    try:
        return SES_RECORD.validate_python(record)
    except ValidationError as error:
        if error.errors()[0]["type"] in ("union_tag_invalid", "union_tag_not_found"):
            raise BadRecord("not an SES event record of a known type") from None
        raise BadRecord(describe(error)[1]) from None


def parse_ses_record(record) -> list[Fact]:
    """One SES record: event publishing (`eventType`; the SNS message, or EventBridge's `detail`)
    or an identity's feedback notification (`notificationType`). Raises only BadRecord."""
    from chalicelib.sunset import contracts as c

    event = _read_ses_record(record)
    if isinstance(event, c.SesSetup):  # SES's test message when a topic is set up
        return [Fact(Kind.IGNORED, why="setup_notification")]
    mail = event.mail
    subscriber, list_id = mail.tags.subscriber_id, mail.tags.list_id
    match event:
        case c.SesSend():
            if not (subscriber and list_id):
                return [Fact(Kind.IGNORED, why="untagged")]
            if not mail.messageId:
                raise BadRecord("a tagged send has no mail.messageId")
            return [Fact(Kind.SENT, subscriber, list_id, _time(mail.timestamp, "mail.timestamp"), mail.messageId)]
        case c.SesOpen(open=opened):
            if is_machine_open(opened.userAgent):
                return [Fact(Kind.IGNORED, why="machine_open")]
            if not (subscriber and list_id):
                return [Fact(Kind.IGNORED, why="untagged")]
            return [Fact(Kind.ENGAGED, subscriber, list_id, opened.timestamp)]
        case c.SesClick(click=clicked):
            if clicked.timestamp - mail.timestamp < SCANNER_WINDOW:
                return [Fact(Kind.IGNORED, why="scanner_click")]
            if not (subscriber and list_id):
                return [Fact(Kind.IGNORED, why="untagged")]
            return [Fact(Kind.ENGAGED, subscriber, list_id, clicked.timestamp)]
        case c.SesComplaint(complaint=complaint):
            at = _when(complaint.timestamp, mail, "complaint")
            # Most feedback loops send no type at all (AWS): an absent type is a complaint.
            feedback = complaint.complaintFeedbackType
            if feedback is not None and feedback.strip().lower() == NOT_A_COMPLAINT:
                return [Fact(Kind.IGNORED, why="not_spam")]
            people = _recipients(complaint.complainedRecipients) or ([subscriber] if subscriber else [])
            return [Fact(Kind.COMPLAINT, p, list_id, at) for p in people] or [Fact(Kind.IGNORED, why="untagged")]
        case c.SesBounce(bounce=bounce):
            at = _when(bounce.timestamp, mail, "bounce")
            people = _recipients(bounce.bouncedRecipients) or ([subscriber] if subscriber else [])
            kind = Kind.HARD_BOUNCE if bounce.bounceType == "Permanent" else Kind.SOFT_BOUNCE
            return [Fact(kind, p, list_id, at) for p in people] or [Fact(Kind.IGNORED, why="untagged")]
        case c.SesSubscription(subscription=subscription):
            at = _when(subscription.timestamp, mail, "subscription")
            if not subscription.newTopicPreferences.unsubscribeAll:
                return [Fact(Kind.IGNORED, why="subscription_change")]
            if subscriber:
                return [Fact(Kind.UNSUBSCRIBE_ALL, subscriber, list_id, at)]
            # Untagged (SES's own list management needs no tags of ours): the one address it went to.
            addressed = _addressed_to(mail)
            if len(addressed) > 1:
                return [Fact(Kind.IGNORED, why="ambiguous_recipient")]
            people = [p for p in map(_by_address, addressed) if p]
            return [Fact(Kind.UNSUBSCRIBE_ALL, p, list_id, at) for p in people] or [Fact(Kind.IGNORED, why="untagged")]
    return [Fact(Kind.IGNORED, why=c.ses_event_type(record).lower().replace(" ", "_"))]


def next_due(list_id: str, engaged_at: datetime, now: datetime | None = None) -> datetime:
    """When someone who engaged at `engaged_at` is next due for the job: never in the past
    (late events, imported history), since the job reads back only to its last complete run."""
    from chalicelib.sunset.policy import first_due, policy_of

    return max(first_due(policy_of(list_id), engaged_at), now or datetime.now(UTC))


def apply(fact: Fact, now: datetime) -> str:
    """Carry out one fact; returns what happened (for counting). Whether a complaint, an SES
    unsubscribe-all or a bounce is already done is the planner's to say (`consent.plan_complaint`,
    `plan_ses_unsubscribe_all`, `plan_suppress_channel`), never this function's."""
    from chalicelib.domain import consent
    from chalicelib.domain.consent import AuditContext, Source
    from chalicelib.storage import subscribers

    match fact.kind:
        case Kind.IGNORED:
            return f"ignored_{fact.why}"
        case Kind.SENT:
            return f"send_{subscribers.count_send(fact.subscriber_id, fact.list_id, fact.message_id, now)}"
        case Kind.ENGAGED:
            moved = subscribers.record_engagement(
                fact.subscriber_id, fact.list_id, fact.at, next_due(fact.list_id, fact.at)
            )
            return "engaged" if moved else "engaged_stale"
        case Kind.COMPLAINT | Kind.UNSUBSCRIBE_ALL:
            complaint = fact.kind == Kind.COMPLAINT
            change = subscribers.unsubscribe_all(
                fact.subscriber_id,
                AuditContext(Source.COMPLAINT if complaint else Source.SES_SUBSCRIPTION),
                now,
                planner=consent.plan_complaint if complaint else consent.plan_ses_unsubscribe_all,
            )
            return str(fact.kind) if change.applied else f"{fact.kind}_already"
        case Kind.HARD_BOUNCE:
            applied = subscribers.suppress_channel(fact.subscriber_id, "email", AuditContext(Source.BOUNCE), now)
            return "hard_bounce" if applied else "hard_bounce_already"
        case Kind.SOFT_BOUNCE:
            if subscribers.get_profile(fact.subscriber_id) is None:
                return "soft_bounce_unknown"
            subscribers.count_transient_bounce(fact.subscriber_id)
            return "soft_bounce"
    raise ValueError(fact.kind)


@dataclass(frozen=True)
class Kept:
    """What "keep me subscribed" did: the link's list kept (or brought back), and the person's
    other lists kept or brought back with it (one re-permission email asked about them all)."""

    kept: bool
    others: list[str]


def pending_lists(subscriber_id: str, list_id: str) -> list[str]:
    """The person's other lists awaiting an answer to a re-permission email."""
    from chalicelib.domain import consent
    from chalicelib.storage import subscribers

    return sorted(
        s.list_id
        for s in subscribers.subscriptions_of(subscriber_id)
        if s.list_id != list_id and s.status == consent.ACTIVE and s.sunset_state == consent.PENDING
    )


def keep(subscriber_id: str, list_id: str, ctx, now: datetime) -> Kept:
    """Counts as engagement: the sunset clock restarts and a pending re-permission ends, for the
    link's list and every other list pending for the person. What a keep does to a list the
    engagement write could not move is `consent.plan_keep`'s to say: the lists the job itself
    ended come back; a person's own unsubscribe (of a list, or of everything) is never
    overridden from here."""
    from chalicelib.domain import consent
    from chalicelib.storage import subscribers

    kept = subscribers.record_engagement(subscriber_id, list_id, now, next_due(list_id, now, now))
    brought_back: list[str] = []
    if not kept:
        subscription = subscribers.get_subscription(subscriber_id, list_id)
        last = subscribers.get_event(subscriber_id, subscription.last_event or "") if subscription else None
        state = subscribers.subscription_state(subscription, list_id, last.source if last else None)
        profile = subscribers.get_profile(subscriber_id) if state.status == consent.UNSUBSCRIBED else None
        together = subscribers.reminded_together(subscriber_id, list_id) if state.last_source == "sunset" else []
        decision = consent.plan_keep(
            state,
            subscribers.profile_state(profile),
            [subscribers.subscription_state(s, s.list_id) for s in together],
        )
        email = (profile.email if profile else None) or ""
        brought_back = [
            other
            for other in decision.resubscribe
            if subscribers.subscribe(
                subscriber_id, email, other, ctx, now, sunset_due=next_due(other, now, now), resubscribe=True
            )
            in (consent.Outcome.RESUBSCRIBED, consent.Outcome.ALREADY_SUBSCRIBED)
        ]
        kept = decision.engage or list_id in brought_back
    # Each conditional on the subscription still receiving: a choice made meanwhile wins.
    others = [
        other
        for other in pending_lists(subscriber_id, list_id)
        if subscribers.record_engagement(subscriber_id, other, now, next_due(other, now, now))
    ]
    return Kept(kept, [other for other in brought_back if other != list_id] + others)


def ingest(records: list, parse=parse_ses_record, now: datetime | None = None) -> Counter:
    """Every record is tried. A record that cannot be read is "malformed": counted, logged and
    skipped, since retrying the same record would fail the same way (AWS would redeliver the
    poison record, and the records after it would wait). Only a storage failure is re-raised,
    after the others are done, so the delivery is retried as a whole (each fact is idempotent)."""
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
        except Exception:  # noqa: BLE001  (a parser bug: the record, not storage, is at fault)
            outcomes["malformed"] += 1
            logger.exception("unreadable engagement record")
            continue
        for fact in facts:
            try:
                outcomes[apply(fact, now)] += 1
            except Exception as error:  # noqa: BLE001  (keep going; re-raised below)
                outcomes["failed"] += 1
                failure = error
                logger.exception("engagement fact could not be stored", extra={"kind": fact.kind})
    for outcome, times in outcomes.items():
        for _ in range(times):  # `count` adds one per call
            count("EngagementRecords", outcome=outcome)
    logger.info("engagement batch", extra={"outcomes": dict(outcomes)})
    if failure is not None:
        raise failure
    return outcomes


def parse_sns_message(message: str) -> dict:
    try:
        return json.loads(message)
    except (TypeError, ValueError, RecursionError) as error:
        raise BadRecord("the SNS message is not JSON") from error


def parse_sns_record(message) -> list[Fact]:
    """The SNS notification's `Message`: an SES record as a JSON string."""
    return parse_ses_record(parse_sns_message(message))


# The generic webhook: other senders report the same facts, signed.


def verify_webhook(
    body: bytes, timestamp: str | None, signature: str | None, secret: bytes, now: float | None = None
) -> None:
    """`X-Offboard-Signature: sha256=<hex HMAC of "<timestamp>.<body>">`, timestamp within 5 minutes."""
    now = time.time() if now is None else now
    # At most 12 ASCII digits: int() reads other digits and any length, and a float of a huge one overflows.
    if not (timestamp or "").isascii() or not (timestamp or "").isdigit() or len(timestamp) > 12:
        raise NotAuthenticated("bad_signature", "X-Offboard-Timestamp must be Unix seconds")
    sent_at = int(timestamp)
    if abs(now - sent_at) > WEBHOOK_TOLERANCE_SECONDS:
        raise NotAuthenticated("stale_request", "the timestamp is too far from now (replay?)")
    expected = "sha256=" + hmac.new(secret, f"{sent_at}.".encode() + body, hashlib.sha256).hexdigest()
    if not (signature or "").isascii() or not hmac.compare_digest(expected, signature or ""):
        raise NotAuthenticated("bad_signature", "the signature does not match the body")


WEBHOOK_TYPES = ("send", "open", "click", "complaint", "bounce")


def parse_webhook_event(event) -> list[Fact]:
    """One event of the webhook, as `contracts.WebhookEvent` takes it. Raises only BadRecord.

    An open counts as engagement only when it is a person's: `machine: false` (the sender
    vouches for it), or no `machine` flag and a user agent that is not a machine's. An open with
    neither is treated like SES's opens without a user agent: a machine's."""
    from pydantic import ValidationError

    from chalicelib.core.contracts import describe
    from chalicelib.sunset.contracts import WEBHOOK_EVENT

    try:
        event = WEBHOOK_EVENT.validate_python(event)
    except ValidationError as error:
        raise BadRecord(describe(error)[1]) from None
    subscriber = event.subscriber_id
    if subscriber is None and event.email is not None:
        subscriber = _by_address(event.email)
    if subscriber is None:
        raise BadRecord("give a subscriber_id or a valid email")
    kind, list_id, at = event.type, event.list_id, event.at
    if kind in ("open", "click", "send") and list_id is None:
        raise BadRecord(f"a {kind} needs a list_id")
    if kind == "send":
        if not event.message_id:
            raise BadRecord("a send needs a message_id")
        return [Fact(Kind.SENT, subscriber, list_id, at, event.message_id)]
    if kind == "open":
        if event.machine if event.machine is not None else is_machine_open(event.user_agent):
            return [Fact(Kind.IGNORED, why="machine_open")]
        return [Fact(Kind.ENGAGED, subscriber, list_id, at)]
    if kind == "click":
        return [Fact(Kind.ENGAGED, subscriber, list_id, at)]
    if kind == "complaint":
        return [Fact(Kind.COMPLAINT, subscriber, list_id, at)]
    # "Permanent" as SES spells it, or "permanent": a sender forwarding SES's field keeps its case.
    permanent = (event.bounce_type or "").casefold() == "permanent"
    return [Fact(Kind.HARD_BOUNCE if permanent else Kind.SOFT_BOUNCE, subscriber, list_id, at)]
