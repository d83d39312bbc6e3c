"""Cancel sessions, each business's cancel flow and its offer budget, in the offers table family
(keys `CANCEL#<session>`/`SESSION`, `CANCELFLOW#<business>`/`FLOW` and `/BUDGET`): the save
offers spend the same kind of budget as exit-intent offers, and a session is kept for the
business's retention through the table's TTL.

Storage commits the domain's plans (`chalicelib.domain.cancel`) and decides nothing: a change is
one conditional put on the version the plan saw, or, when it spends the budget, one transaction
of that put and the budget's conditional increment.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.domain.cancel import (
    Answer,
    Change,
    Flow,
    LinkRequestLimit,
    OfferKind,
    Reason,
    SaveOffer,
    Session,
    SessionRequest,
    Status,
    flow_from_raw,
)
from chalicelib.storage.connection import TABLES, TableMeta
from chalicelib.storage.transactions import ConditionsFailed, Transaction, get_or_none, written


class _CancelPartition(Model):
    class Meta(TableMeta):
        table_name = TABLES.offers

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ttl = TTLAttribute(null=True)


class CancelSessionItem(_CancelPartition):
    state = JSONAttribute()
    version = NumberAttribute()
    business = UnicodeAttribute()
    customer_id = UnicodeAttribute()


class CancelFlowItem(_CancelPartition):
    flow = JSONAttribute(null=True)
    accepted = NumberAttribute(null=True)  # on the BUDGET item: offers accepted so far


def _session_key(session_id: str) -> tuple[str, str]:
    return f"CANCEL#{session_id}", "SESSION"


def _flow_key(business: str, what: str) -> tuple[str, str]:
    return f"CANCELFLOW#{business}", what


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _offer(raw: dict | None) -> SaveOffer | None:
    if not raw:
        return None
    return SaveOffer(
        raw["offer_id"],
        OfferKind(raw["kind"]),
        raw.get("percent", 0),
        raw.get("months", 0),
        raw.get("plan"),
        raw.get("price"),
    )


def session_to_raw(session: Session) -> dict:
    request = session.request
    return {
        "id": session.session_id,
        "request": {
            **{k: getattr(request, k) for k in ("business", "customer_id", "subscription_id", "plan", "price")},
            **{k: getattr(request, k) for k in ("currency", "tenure_months", "locale", "return_url")},
            "effective_date": request.effective_date.isoformat(),
        },
        "flow": session.flow.to_raw(),
        "created_at": _time(session.created_at),
        "link_expires_at": _time(session.link_expires_at),
        "status": str(session.status),
        "reason": str(session.answer.reason) if session.answer.reason else None,
        "comment": session.answer.comment,
        "answered_at": _time(session.answered_at),
        "arm": session.arm,
        "offer": session.offer.to_raw() if session.offer else None,
        "offer_shown_at": _time(session.offer_shown_at),
        "decided_at": _time(session.decided_at),
        "undone_at": _time(session.undone_at),
    }


def session_from_raw(raw: dict, version: int) -> Session:
    request = raw["request"]
    return Session(
        session_id=raw["id"],
        request=SessionRequest(**{**request, "effective_date": date.fromisoformat(request["effective_date"])}),
        flow=flow_from_raw(raw["flow"]),
        created_at=_parse_time(raw["created_at"]),
        link_expires_at=_parse_time(raw["link_expires_at"]),
        status=Status(raw["status"]),
        answer=Answer(Reason(raw["reason"]) if raw.get("reason") else None, raw.get("comment")),
        answered_at=_parse_time(raw.get("answered_at")),
        arm=raw.get("arm"),
        offer=_offer(raw.get("offer")),
        offer_shown_at=_parse_time(raw.get("offer_shown_at")),
        decided_at=_parse_time(raw.get("decided_at")),
        undone_at=_parse_time(raw.get("undone_at")),
        version=version,
    )


def _item(session: Session) -> CancelSessionItem:
    pk, sk = _session_key(session.session_id)
    request = session.request
    # Kept for the business's retention after the effective date (California: 1 year after
    # termination or 3 years after consent, whichever is later; the flow's days are >= 3 years).
    end = datetime(request.effective_date.year, request.effective_date.month, request.effective_date.day, tzinfo=UTC)
    keep_until = max(session.created_at, end) + timedelta(days=session.flow.retention_days)
    return CancelSessionItem(
        pk,
        sk,
        state=session_to_raw(session),
        version=session.version,
        business=request.business,
        customer_id=request.customer_id,
        ttl=keep_until,
    )


def _customer_key(business: str, customer_id: str, session_id: str) -> tuple[str, str]:
    return f"CANCELCUST#{business}#{customer_id}", f"SESSION#{session_id}"


# The webhook outbox: each event a change emits is written in the change's own transaction, so
# an event is never lost between the commit and the queue; the worker clears it when the event
# is settled, and `outbox_older_than` finds any the queue never got.


class OutboxItem(_CancelPartition):
    message = JSONAttribute()


OUTBOX_SHARDS = 4
OUTBOX_RETENTION = timedelta(days=14)  # as long as the queues keep a message


def outbox_key(event_id: str, at: datetime) -> list[str]:
    return [f"CANCELOUTBOX#{zlib.crc32(event_id.encode()) % OUTBOX_SHARDS}", f"{at.isoformat()}#{event_id}"]


def _with_outbox(transaction: Transaction, messages: list[dict]) -> Transaction:
    for n, message in enumerate(messages):
        at = datetime.fromisoformat(message["outbox"][1].split("#", 1)[0])
        item = OutboxItem(*message["outbox"], message=message, ttl=at + OUTBOX_RETENTION)
        transaction.put(f"outbox{n}", item)
    return transaction


def outbox_older_than(cutoff: datetime) -> list[dict]:
    found = []
    for shard in range(OUTBOX_SHARDS):
        items = OutboxItem.query(f"CANCELOUTBOX#{shard}", OutboxItem.sk < cutoff.isoformat())
        found += [i.message for i in items if not i.ttl or i.ttl > cutoff]  # TTL deletion is lazy
    return found


def clear_outbox(key: list[str]) -> None:
    OutboxItem(*key).delete()


def create_session(session: Session, messages: list[dict] = ()) -> None:
    """The session, its entry in the customer's index (for export and erasure) and its events'
    outbox entries, together."""
    item = _item(session)
    request = session.request
    entry = CancelFlowItem(*_customer_key(request.business, request.customer_id, session.session_id), ttl=item.ttl)
    transaction = Transaction().put("session", item, CancelSessionItem.pk.does_not_exist()).put("index", entry)
    try:
        _with_outbox(transaction, list(messages)).commit()
    except ConditionsFailed as failed:
        raise Conflict("session_exists", "a session with this id exists") from failed


def load_session(session_id: str) -> Session | None:
    """One consistent read; a session past its TTL is gone for the flow as well."""
    try:
        item = CancelSessionItem.get(*_session_key(session_id), consistent_read=True)
    except DoesNotExist:
        return None
    if item.ttl and item.ttl <= datetime.now(UTC):
        return None
    return session_from_raw(item.state, int(item.version))


class StatsItem(_CancelPartition):
    """One (reason, arm) row of a business's counters."""

    sessions = NumberAttribute(null=True)
    saved = NumberAttribute(null=True)
    cancelled = NumberAttribute(null=True)
    undone = NumberAttribute(null=True)


def _reason(session: Session) -> str:
    return str(session.answer.reason) if session.answer.reason else "none"


def _stats_key(session: Session) -> tuple[str, str]:
    return f"CANCELFLOW#{session.request.business}", f"STATS#{_reason(session)}#{session.arm or 'none'}"


def _day_key(session: Session, day: date) -> tuple[str, str]:
    """The same counters per (UTC day, reason): reasons over time, one Query for a date range."""
    return f"CANCELFLOW#{session.request.business}", f"DAY#{day.isoformat()}#{_reason(session)}"


class ValueItem(_CancelPartition):
    """What accepted offers gave away on one (reason, arm, currency), in minor units."""

    given = NumberAttribute(null=True)


def _value_key(session: Session) -> tuple[str, str]:
    business, currency = session.request.business, session.request.currency
    return f"CANCELFLOW#{business}", f"VALUE#{_reason(session)}#{session.arm or 'none'}#{currency}"


def commit(change: Change, messages: list[dict] = ()) -> Session | None:
    """Write the planned session if it still has the version the plan saw, with its counters and,
    when it spends the budget, the budget's increment: one transaction, no read. None when
    written; when another request changed the session first, the session as it is now (the
    failed condition hands it back), to plan again on. Conflict("offer_unavailable") when the
    budget is spent, NotFound when the session is gone."""
    item = _item(change.session)
    transaction = Transaction().put(
        "session", item, CancelSessionItem.version == change.expected_version, keep_old=True
    )
    if change.tallies:
        moves = [getattr(StatsItem, str(t)).add(1) for t in change.tallies]
        transaction.update("stats", StatsItem(*_stats_key(change.session)), moves)
        if change.on is not None:
            transaction.update("day", StatsItem(*_day_key(change.session, change.on)), list(moves))
    if change.value_given:
        value = ValueItem(*_value_key(change.session))
        transaction.update("value", value, [ValueItem.given.add(change.value_given)])
    if change.spends_budget:
        limit = change.session.flow.budget
        if not limit:
            raise Conflict("offer_unavailable", "this offer is no longer available")
        budget = CancelFlowItem(*_flow_key(change.session.request.business, "BUDGET"))
        transaction.update(
            "budget",
            budget,
            [CancelFlowItem.accepted.add(1)],
            condition=CancelFlowItem.accepted.does_not_exist() | (CancelFlowItem.accepted < limit),
        )
    try:
        _with_outbox(transaction, list(messages)).commit()
    except ConditionsFailed as failed:
        if "session" in failed:
            return _session_from_item(failed.failed["session"])
        raise Conflict("offer_unavailable", "this offer is no longer available") from failed
    return None


def _session_from_item(raw: dict) -> Session:
    """A session item as DynamoDB JSON (a failed condition's ALL_OLD)."""
    if not raw or "state" not in raw:
        raise NotFound("unknown_session", "this cancellation session does not exist any more")
    return session_from_raw(json.loads(raw["state"]["S"]), int(raw["version"]["N"]))


def stats_of(business: str) -> dict[tuple[str, str], dict[str, int]]:
    """(reason, arm) -> {sessions, saved, cancelled, undone}: one Query."""
    rows = StatsItem.query(f"CANCELFLOW#{business}", StatsItem.sk.startswith("STATS#"))
    return {
        tuple(row.sk.split("#")[1:3]): {
            t: int(getattr(row, t) or 0) for t in ("sessions", "saved", "cancelled", "undone")
        }
        for row in rows
    }


def stats_by_day(business: str, first: date, last: date) -> dict[tuple[str, str], dict[str, int]]:
    """(YYYY-MM-DD, reason) -> {sessions, saved, cancelled, undone} for days first..last: one Query."""
    key = StatsItem.sk.between(f"DAY#{first.isoformat()}#", f"DAY#{last.isoformat()}#~")
    rows = StatsItem.query(f"CANCELFLOW#{business}", key)
    return {
        tuple(row.sk.split("#")[1:3]): {
            t: int(getattr(row, t) or 0) for t in ("sessions", "saved", "cancelled", "undone")
        }
        for row in rows
    }


def value_given_of(business: str) -> dict[tuple[str, str, str], int]:
    """(reason, arm, currency) -> minor units given away by accepted offers: one Query."""
    rows = ValueItem.query(f"CANCELFLOW#{business}", ValueItem.sk.startswith("VALUE#"))
    return {tuple(row.sk.split("#")[1:4]): int(row.given or 0) for row in rows}


def load_flow(business: str) -> Flow | None:
    item = get_or_none(CancelFlowItem, *_flow_key(business, "FLOW"))
    return flow_from_raw(item.flow) if item and item.flow else None


def save_flow(business: str, flow: Flow) -> None:
    CancelFlowItem(*_flow_key(business, "FLOW"), flow=flow.to_raw()).save()


def accepted_offers(business: str) -> int:
    item = get_or_none(CancelFlowItem, *_flow_key(business, "BUDGET"))
    return int(item.accepted or 0) if item else 0


# Webhooks: the business's endpoint and secrets, and one delivery record per event id whose
# conditional writes make a delivery happen once: a worker claims the event with a lease (no
# other worker sends it while the lease runs), and marks it delivered after a 2xx.


class WebhookItem(_CancelPartition):
    url = UnicodeAttribute(null=True)
    secrets = JSONAttribute(null=True)  # newest first; the previous one stays until the next rotation
    status = UnicodeAttribute(null=True)  # on delivery records: sending | delivered
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    attempts = NumberAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)


def save_webhook(business: str, url: str, new_secret: str) -> list[str]:
    """Set the endpoint and rotate in a new secret; answers the secrets now valid."""
    current = get_or_none(WebhookItem, *_flow_key(business, "WEBHOOK"))
    secrets_now = [new_secret, *((current.secrets or [])[:1] if current else [])]
    WebhookItem(*_flow_key(business, "WEBHOOK"), url=url, secrets=secrets_now).save()
    return secrets_now


def load_webhook(business: str) -> tuple[str, list[str]] | None:
    item = get_or_none(WebhookItem, *_flow_key(business, "WEBHOOK"))
    return (item.url, list(item.secrets or [])) if item and item.url else None


class Claim(StrEnum):
    CLAIMED = "claimed"
    DELIVERED = "delivered"
    BUSY = "busy"


def _delivery_key(session_id: str, event_id: str) -> tuple[str, str]:
    return f"CANCEL#{session_id}", f"WEBHOOK#{event_id}"


def claim_delivery(session_id: str, event_id: str, owner: str, now: datetime, lease: timedelta) -> Claim:
    item = WebhookItem(*_delivery_key(session_id, event_id))
    free = WebhookItem.pk.does_not_exist() | (
        (WebhookItem.status == "sending") & (WebhookItem.lease_until < int(now.timestamp()))
    )
    actions = [
        WebhookItem.status.set("sending"),
        WebhookItem.lease_owner.set(owner),
        WebhookItem.lease_until.set(int((now + lease).timestamp())),
        WebhookItem.attempts.add(1),
    ]
    if written(lambda: item.update(actions=actions, condition=free)):
        return Claim.CLAIMED
    current = get_or_none(WebhookItem, *_delivery_key(session_id, event_id))
    return Claim.DELIVERED if current and current.status == "delivered" else Claim.BUSY


def finish_delivery(session_id: str, event_id: str, owner: str, now: datetime, error: str | None) -> None:
    """Delivered (error None) or released for the next attempt; only by the lease's owner."""
    item = WebhookItem(*_delivery_key(session_id, event_id))
    if error is None:
        actions = [WebhookItem.status.set("delivered"), WebhookItem.delivered_at.set(now)]
    else:
        actions = [WebhookItem.lease_until.set(0), WebhookItem.last_error.set(error[:500])]
    written(lambda: item.update(actions=actions, condition=WebhookItem.lease_owner == owner))


class LinkRequestItem(_CancelPartition):
    """The person's requests for a new link in one session (no personal data: counts and times)."""

    requests = NumberAttribute(null=True)
    last_at = UTCDateTimeAttribute(null=True)


def record_link_request(session: Session, now: datetime, limit: LinkRequestLimit, messages: list[dict]) -> bool:
    """Count the request and put its webhook in the outbox, together, if the limit allows it;
    False (nothing written) when it does not."""
    item = LinkRequestItem(f"CANCEL#{session.session_id}", "LINKREQUEST", ttl=_item(session).ttl)
    allowed = LinkRequestItem.pk.does_not_exist() | (
        (LinkRequestItem.last_at < limit.last_before) & (LinkRequestItem.requests < limit.most)
    )
    actions = [LinkRequestItem.requests.add(1), LinkRequestItem.last_at.set(now), LinkRequestItem.ttl.set(item.ttl)]
    transaction = Transaction().update("request", item, actions, condition=allowed)
    return _with_outbox(transaction, messages).commit_unless("request")


# The customer's records: export and erasure, through the customer's index (no Scan).


def sessions_of_customer(business: str, customer_id: str) -> list[Session]:
    entries = CancelFlowItem.query(f"CANCELCUST#{business}#{customer_id}", CancelFlowItem.sk.startswith("SESSION#"))
    keys = [_session_key(entry.sk.removeprefix("SESSION#")) for entry in entries]
    items = list(CancelSessionItem.batch_get(keys)) if keys else []
    sessions = [session_from_raw(item.state, int(item.version)) for item in items]
    return sorted(sessions, key=lambda s: s.created_at)


ERASED = "erased"


def erase_customer(business: str, customer_id: str) -> int:
    """Forget the person, keep the choice: each session loses the customer and subscription ids
    and the comment (the reason, offer, outcome and times stay, for the business's records and
    reports); the index entries go. Idempotent."""
    sessions = sessions_of_customer(business, customer_id)
    for session in sessions:
        for _ in range(5):  # on the version read, so a click landing meanwhile is not undone
            request = replace(session.request, customer_id=ERASED, subscription_id=ERASED)
            # A new version, so a page ticket sealed before the erasure can never write the ids back.
            erased = _item(
                replace(
                    session, request=request, answer=replace(session.answer, comment=None), version=session.version + 1
                )
            )
            if written(lambda item=erased, v=session.version: item.save(condition=CancelSessionItem.version == v)):
                break
            session = load_session(session.session_id) or session
    with CancelFlowItem.batch_write() as batch:
        for session in sessions:
            batch.delete(CancelFlowItem(*_customer_key(business, customer_id, session.session_id)))
    return len(sessions)
