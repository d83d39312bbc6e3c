"""The subscribers table: one partition per subscriber holding its profile (`PROFILE`), its
subscriptions (`LIST#<list>`) and its append-only consent events (`EVENT#<time>#<random>`);
plus sharded member counters per list (`MEMBERS#<list>`), exit-survey counts per list and month
(`REASONS#<list>`), leaving counters per list, month and shard (`LEAVING#<list>`, in
`counters`), and send de-duplication marks (`MSG#<id>`).

Active and paused subscriptions carry `sunset_due` (`YYYY-MM-DD#<shard>`), the key of the sparse
index the sunset job reads by day and shard.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.ids import event_key, shard_of
from chalicelib.domain.consent import Action, AuditContext, Event
from chalicelib.storage.connection import TABLES, TableMeta

PROFILE = "PROFILE"


def list_key(list_id: str) -> str:
    return f"LIST#{list_id}"


def due_partition(day: str, shard: int) -> str:
    return f"{day}#{shard:02d}"


def due_key(when: datetime, subscriber_id: str) -> str:
    """The sunset index partition for `when`'s day and the subscriber's shard."""
    return due_partition(f"{when:%Y-%m-%d}", shard_of(subscriber_id))


class SubscriberPartition(Model):
    class Meta(TableMeta):
        table_name = TABLES.subscribers

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ttl = TTLAttribute(null=True)


class SunsetIndex(GlobalSecondaryIndex):
    """Sparse: only subscriptions that are active, paused or pending carry `sunset_due`."""

    class Meta:
        index_name = "sunset-due"
        projection = AllProjection()

    sunset_due = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class Profile(SubscriberPartition):
    email = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    opted_out_all = BooleanAttribute(null=True)
    opted_out_event = UnicodeAttribute(null=True)  # the event that opted out of everything
    opted_out_source = UnicodeAttribute(null=True)  # ... and the door it came through
    suppressed_channels = UnicodeSetAttribute(null=True)
    undone = UnicodeSetAttribute(null=True)  # opt-outs of every list that were undone, so each is undone once
    transient_bounces = NumberAttribute(null=True)
    erased_at = UTCDateTimeAttribute(null=True)  # what is left after erasure: the opt-out itself
    sms_keyword_at = UTCDateTimeAttribute(null=True)  # a number's profile: its latest SMS keyword applied


class Subscription(SubscriberPartition):
    list_id = UnicodeAttribute()
    status = UnicodeAttribute()
    subscribed_at = UTCDateTimeAttribute(null=True)
    unsubscribed_at = UTCDateTimeAttribute(null=True)
    paused_until = UTCDateTimeAttribute(null=True)
    last_event = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)  # kept here too so the sunset job reads one item per subscriber
    last_engaged_at = UTCDateTimeAttribute(null=True)
    sends_since_engaged = NumberAttribute(null=True)
    sunset_due = UnicodeAttribute(null=True)
    sunset_state = UnicodeAttribute(null=True)  # "pending" once the re-permission email is due or sent
    pending_since = UTCDateTimeAttribute(null=True)
    reminder_sent_at = UTCDateTimeAttribute(null=True)
    frequency = UnicodeAttribute(null=True)  # "less often": one of the list's frequency ids; None = every send
    sunset_index = SunsetIndex()


class ListMembers(SubscriberPartition):
    """Active and paused members of a list, counted in `SHARDS` items to spread the writes."""

    members = NumberAttribute(null=True)


class ReasonCounts(SubscriberPartition):
    """Exit-survey answers per list and month (`REASONS#<list>` / `YYYY-MM`)."""

    too_many_emails = NumberAttribute(null=True)
    not_relevant = NumberAttribute(null=True)
    too_expensive = NumberAttribute(null=True)
    switched_service = NumberAttribute(null=True)
    missing_features = NumberAttribute(null=True)
    technical_problems = NumberAttribute(null=True)
    never_signed_up = NumberAttribute(null=True)
    prefer_other_channel = NumberAttribute(null=True)
    other = NumberAttribute(null=True)


class SendMark(SubscriberPartition):
    """One per message id: a Send or Delivery record counts once, however often it arrives."""


class ConsentEvent(SubscriberPartition):
    action = UnicodeAttribute()
    list_id = UnicodeAttribute()  # "*" for a change that covers every list
    lists = ListAttribute(of=UnicodeAttribute, null=True)
    source = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    ip_hash = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    key_id = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    until = UTCDateTimeAttribute(null=True)  # end of a pause
    reason = UnicodeAttribute(null=True)
    comment = UnicodeAttribute(null=True)
    frequency = UnicodeAttribute(null=True)  # a "frequency" event: the id chosen (None: back to every send)
    frequency_before = UnicodeAttribute(null=True)  # ... and the one it replaced, for its undo


def new_event(
    subscriber_id: str, action: str, list_id: str, ctx: AuditContext, now: datetime, lists: list[str] | None = None
) -> ConsentEvent:
    """An audit item for a change no planner describes yet (the SMS keywords' own trail)."""
    return ConsentEvent(
        subscriber_id,
        event_key(now),
        action=action,
        list_id=list_id,
        lists=lists,
        source=ctx.source,
        at=now,
        ip_hash=ctx.ip_hash,
        user_agent=(ctx.user_agent or "")[:256] or None,
        key_id=ctx.key_id,
        campaign_id=ctx.campaign_id or None,
    )


def consent_event(subscriber_id: str, event: Event) -> ConsentEvent:
    """The audit item of a planned event."""
    ctx = event.context
    item = ConsentEvent(
        subscriber_id,
        event.key,
        action=str(event.action),
        list_id=event.list_id,
        source=str(ctx.source),
        at=event.at,
        ip_hash=ctx.ip_hash,
        user_agent=(ctx.user_agent or "")[:256] or None,
        key_id=ctx.key_id,
        campaign_id=ctx.campaign_id or None,
    )
    # Only what the event has: each attribute set costs PynamoDB time on the one-click path.
    if event.lists is not None:
        item.lists = list(event.lists)
    if event.until is not None:
        item.until = event.until
    if event.action == Action.FREQUENCY:
        item.frequency, item.frequency_before = event.frequency, event.frequency_before
    return item


def request_token(event: ConsentEvent) -> str:
    """The transaction's idempotency token: a retried commit of the same change is one change."""
    import hashlib

    return hashlib.sha256(f"{event.pk}|{event.sk}".encode()).hexdigest()[:32]


def members_counter(list_id: str, subscriber_id: str) -> ListMembers:
    return ListMembers(f"MEMBERS#{list_id}", f"SHARD#{shard_of(subscriber_id):02d}")


def leave_sunset(keep_reminder: bool = False) -> list:
    """Actions that take a subscription out of the sunset index (it no longer receives mail);
    with `keep_reminder`, the time of the re-permission email that asked stays."""
    return [
        Subscription.sunset_due.remove(),
        Subscription.sunset_state.remove(),
        Subscription.pending_since.remove(),
        *([] if keep_reminder else [Subscription.reminder_sent_at.remove()]),
    ]


def restart_sunset(subscriber_id: str, due: datetime) -> list:
    """Actions for a fresh start on the sunset clock (joining, coming back, engaging), next due on `due`."""
    return [
        Subscription.sunset_due.set(due_key(due, subscriber_id)),
        Subscription.sends_since_engaged.set(0),
        Subscription.sunset_state.remove(),
        Subscription.pending_since.remove(),
        Subscription.reminder_sent_at.remove(),
    ]
