"""The subscribers table family: one partition per subscriber holding its profile, its
subscriptions (`LIST#<list>`) and its append-only consent events (`EVENT#<time>#<random>`);
plus sharded member counters per list (`MEMBERS#<list>`), and send de-duplication marks.

Every change of consent is one DynamoDB transaction: the subscription's conditional update,
the list's member counter and the audit event are written together or not at all. Active and
paused subscriptions carry `sunset_due`, the key of the sparse index the sunset job reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import consent
from chalicelib.identity import event_key
from chalicelib.shards import shard_of
from chalicelib.storage.connection import SUBSCRIBERS_TABLE, TableMeta, connection
from chalicelib.storage.lists import MailingList, policy_of
from chalicelib.storage.transactions import cancellation_reasons, commit_unless, update_position, written

PROFILE = "PROFILE"
MAX_LISTS_PER_CHANGE = 45  # a transaction holds at most 100 items: a subscription and a counter each
SEND_MARK_RETENTION = timedelta(days=30)


def list_key(list_id: str) -> str:
    return f"LIST#{list_id}"


class _SubscriberPartition(Model):
    class Meta(TableMeta):
        table_name = SUBSCRIBERS_TABLE

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


class Profile(_SubscriberPartition):
    email = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    opted_out_all = BooleanAttribute(null=True)
    suppressed_channels = UnicodeSetAttribute(null=True)
    undone = UnicodeSetAttribute(null=True)  # opt-outs of every list that were undone, so each is undone once
    transient_bounces = NumberAttribute(null=True)
    erased_at = UTCDateTimeAttribute(null=True)  # what is left after erasure: the opt-out itself


class Subscription(_SubscriberPartition):
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
    sunset_index = SunsetIndex()


class ListMembers(_SubscriberPartition):
    """Active and paused members of a list, counted in `SHARDS` items to spread the writes."""

    members = NumberAttribute(null=True)


class ReasonCounts(_SubscriberPartition):
    """Exit-survey answers per list and month (`REASONS#<list>` / `YYYY-MM`)."""

    too_many_emails = NumberAttribute(null=True)
    not_relevant = NumberAttribute(null=True)
    too_expensive = NumberAttribute(null=True)
    switched_service = NumberAttribute(null=True)
    missing_features = NumberAttribute(null=True)
    technical_problems = NumberAttribute(null=True)
    other = NumberAttribute(null=True)


class SendMark(_SubscriberPartition):
    """One per message id: a Send or Delivery record counts once, however often it arrives."""


class ConsentEvent(_SubscriberPartition):
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


@dataclass(frozen=True)
class AuditContext:
    source: str
    ip_hash: str | None = None
    user_agent: str | None = None
    key_id: str | None = None
    campaign_id: str | None = None


@dataclass(frozen=True)
class Change:
    """What a consent change did: `applied` is False when the state already was the asked one."""

    applied: bool
    event_key: str | None
    status: str | None = None


class UnknownList(LookupError):
    pass


class ConcurrentChange(RuntimeError):
    """The subscriber's state changed between our read and our write too often to finish."""


def _event(
    subscriber_id: str, action: str, list_id: str, ctx: AuditContext, now: datetime, lists: list[str] | None = None
) -> ConsentEvent:
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


def _failed(reasons: list, index: int) -> bool:
    return len(reasons) > index and reasons[index] is not None and reasons[index].code == "ConditionalCheckFailed"


def _members(list_id: str, subscriber_id: str) -> ListMembers:
    return ListMembers(f"MEMBERS#{list_id}", f"SHARD#{shard_of(subscriber_id):02d}")


def _leave_sunset() -> list:
    return [
        Subscription.sunset_due.remove(),
        Subscription.sunset_state.remove(),
        Subscription.pending_since.remove(),
        Subscription.reminder_sent_at.remove(),
    ]


def _restart_sunset(subscriber_id: str, list_id: str, since: datetime) -> list:
    """A fresh start on the sunset clock: joining, coming back, or engaging at `since`.
    A due date is never in the past (late events, imported history): the job looks back only
    over the days since its last complete run."""
    from chalicelib.sunset_policy import due_key, first_due  # not needed on the one-click path

    due = max(first_due(policy_of(list_id), since), datetime.now(UTC))
    return [
        Subscription.sunset_due.set(due_key(due, subscriber_id)),
        Subscription.sends_since_engaged.set(0),
        Subscription.sunset_state.remove(),
        Subscription.pending_since.remove(),
        Subscription.reminder_sent_at.remove(),
    ]


def members_of(list_id: str) -> int:
    return sum(
        int(c.members or 0) for c in ListMembers.query(f"MEMBERS#{list_id}", ListMembers.sk.startswith("SHARD#"))
    )


def unsubscribe(subscriber_id: str, list_id: str, ctx: AuditContext, now: datetime, attempts: int = 3) -> Change:
    """One round trip in the usual case: list check, conditional status change, member counter
    and audit event in one transaction. Repeating it changes nothing and keeps the first
    `unsubscribed_at`. A subscription we never saw is created as unsubscribed (a second round
    trip), so the choice holds if the sender imports the address later.
    """
    event = _event(subscriber_id, "unsubscribe", list_id, ctx, now)
    for _ in range(attempts):
        transaction = TransactWrite(connection=connection())
        transaction.condition_check(MailingList, list_id, condition=MailingList.list_id.exists())
        transaction.update(
            Subscription(subscriber_id, list_key(list_id)),
            actions=[
                Subscription.status.set(consent.UNSUBSCRIBED),
                Subscription.unsubscribed_at.set(now),
                Subscription.paused_until.remove(),
                Subscription.last_event.set(event.sk),
                *_leave_sunset(),
            ],
            condition=Subscription.status.is_in(consent.ACTIVE, consent.PAUSED),
            return_values="ALL_OLD",
        )
        transaction.update(_members(list_id, subscriber_id), actions=[ListMembers.members.add(-1)])
        transaction.save(event, condition=ConsentEvent.sk.does_not_exist())
        try:
            transaction._commit()
            return Change(True, event.sk, consent.UNSUBSCRIBED)
        except TransactWriteError as error:
            reasons = cancellation_reasons(error)
            if _failed(reasons, 0):
                raise UnknownList(list_id) from error
            if not _failed(reasons, update_position(transaction, 0)):
                raise
            old = reasons[update_position(transaction, 0)].raw_item
            if old:
                return Change(False, (old.get("last_event") or {}).get("S"), consent.UNSUBSCRIBED)
        if _record_unknown_unsubscribe(subscriber_id, list_id, event, now):
            return Change(True, event.sk, consent.UNSUBSCRIBED)
    raise ConcurrentChange(subscriber_id)


def _record_unknown_unsubscribe(subscriber_id: str, list_id: str, event: ConsentEvent, now: datetime) -> bool:
    transaction = TransactWrite(connection=connection())
    transaction.update(
        Subscription(subscriber_id, list_key(list_id)),
        actions=[
            Subscription.list_id.set(list_id),
            Subscription.status.set(consent.UNSUBSCRIBED),
            Subscription.unsubscribed_at.set(now),
            Subscription.last_event.set(event.sk),
        ],
        condition=Subscription.status.does_not_exist(),
    )
    transaction.save(event, condition=ConsentEvent.sk.does_not_exist())
    return commit_unless(transaction, update_position(transaction, 0))  # False: created meanwhile, go round again


def pause(subscriber_id: str, list_id: str, until: datetime, ctx: AuditContext, now: datetime) -> Change:
    event = _event(subscriber_id, "pause", list_id, ctx, now)
    event.until = until
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.update(
                Subscription(subscriber_id, list_key(list_id)),
                actions=[
                    Subscription.status.set(consent.PAUSED),
                    Subscription.paused_until.set(until),
                    Subscription.last_event.set(event.sk),
                ],
                condition=Subscription.status.is_in(consent.ACTIVE, consent.PAUSED),
                return_values="ALL_OLD",
            )
            transaction.save(event, condition=ConsentEvent.sk.does_not_exist())
    except TransactWriteError as error:
        reasons = cancellation_reasons(error)
        if _failed(reasons, update_position(transaction, 0)):
            old = reasons[update_position(transaction, 0)].raw_item or {}
            status = (old.get("status") or {}).get("S")
            return Change(False, (old.get("last_event") or {}).get("S"), status)
        raise
    return Change(True, event.sk, consent.PAUSED)


def unsubscribe_all(subscriber_id: str, ctx: AuditContext, now: datetime, attempts: int = 3) -> Change:
    """Leave every list and opt out of future ones. Each subscription is updated on the
    condition that it still has the status we read, so a concurrent change makes us re-read."""
    for _ in range(attempts):
        subscriptions = [s for s in subscriptions_of(subscriber_id) if s.status != consent.UNSUBSCRIBED][
            :MAX_LISTS_PER_CHANGE
        ]
        event = _event(subscriber_id, "unsubscribe_all", "*", ctx, now, lists=[s.list_id for s in subscriptions])

        transaction = TransactWrite(connection=connection())
        for s in subscriptions:
            transaction.update(
                s,
                actions=[
                    Subscription.status.set(consent.UNSUBSCRIBED),
                    Subscription.unsubscribed_at.set(now),
                    Subscription.paused_until.remove(),
                    Subscription.last_event.set(event.sk),
                    *_leave_sunset(),
                ],
                condition=Subscription.status == s.status,
            )
            transaction.update(_members(s.list_id, subscriber_id), actions=[ListMembers.members.add(-1)])
        transaction.update(Profile(subscriber_id, PROFILE), actions=[Profile.opted_out_all.set(True)])
        transaction.save(event, condition=ConsentEvent.sk.does_not_exist())
        try:
            transaction._commit()
            return Change(True, event.sk, consent.UNSUBSCRIBED)
        except TransactWriteError as error:
            if not any(r is not None and r.code == "ConditionalCheckFailed" for r in cancellation_reasons(error)):
                raise
    raise ConcurrentChange(subscriber_id)


def undo(
    subscriber_id: str, list_id: str, undone_key: str, ctx: AuditContext, now: datetime, attempts: int = 3
) -> Change:
    """Revert the change recorded by `undone_key`, for the lists it still governs.

    A list whose state changed since (its `last_event` moved on) is left as it is, so an undo
    never overrides a later choice, and a second undo changes nothing.
    """
    original = get_event(subscriber_id, undone_key)
    if original is None or original.action not in consent.UNDO_ACTION:
        return Change(False, None)
    covers_all = original.list_id == "*"
    if not covers_all and original.list_id != list_id:
        return Change(False, None)
    lists = set(original.lists or []) if covers_all else {original.list_id}
    for _ in range(attempts):
        to_restore = [s for s in subscriptions_of(subscriber_id) if s.list_id in lists and s.last_event == undone_key]
        if not to_restore and not covers_all:
            return Change(False, None)
        event = _event(
            subscriber_id, consent.UNDO_ACTION[original.action], original.list_id, ctx, now, lists=original.lists
        )

        rejoins = original.action != "pause"  # a resume keeps the member count and the sunset clock
        transaction = TransactWrite(connection=connection())
        for s in to_restore:
            transaction.update(
                s,
                actions=[
                    Subscription.status.set(consent.ACTIVE),
                    Subscription.unsubscribed_at.remove(),
                    Subscription.paused_until.remove(),
                    Subscription.last_event.set(event.sk),
                    *(_restart_sunset(subscriber_id, s.list_id, now) if rejoins else []),
                ],
                condition=Subscription.last_event == undone_key,
            )
            if rejoins:
                transaction.update(_members(s.list_id, subscriber_id), actions=[ListMembers.members.add(1)])
        if covers_all:
            transaction.update(
                Profile(subscriber_id, PROFILE),
                actions=[Profile.opted_out_all.set(False), Profile.undone.add({undone_key})],
                condition=Profile.undone.does_not_exist() | ~Profile.undone.contains(undone_key),
            )
        transaction.save(event, condition=ConsentEvent.sk.does_not_exist())
        try:
            transaction._commit()
            return Change(True, event.sk, consent.ACTIVE)
        except TransactWriteError as error:
            reasons = cancellation_reasons(error)
            profile_position = update_position(transaction, len(to_restore) * (2 if rejoins else 1))
            if covers_all and _failed(reasons, profile_position):
                return Change(False, None)  # this opt-out was already undone
            if not any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
                raise
    raise ConcurrentChange(subscriber_id)


def record_survey(
    subscriber_id: str, list_id: str, key: str, reason: str, comment: str | None, now: datetime | None = None
) -> bool:
    """Attach the exit survey to the event it explains (answered once, never overwritten) and
    count the reason for the list's monthly report, in one transaction."""
    now = now or datetime.now(UTC)
    transaction = TransactWrite(connection=connection())
    transaction.update(
        ConsentEvent(subscriber_id, key),
        actions=[ConsentEvent.reason.set(reason), ConsentEvent.comment.set(comment)],
        condition=ConsentEvent.sk.exists()
        & ConsentEvent.list_id.is_in(list_id, "*")
        & ConsentEvent.action.is_in(*consent.UNDO_ACTION)
        & ConsentEvent.reason.does_not_exist(),
    )
    transaction.update(
        ReasonCounts(f"REASONS#{list_id}", f"{now:%Y-%m}"), actions=[getattr(ReasonCounts, reason).add(1)]
    )
    return commit_unless(transaction, update_position(transaction, 0))


def reason_counts(list_id: str, first_month: str, last_month: str) -> list[ReasonCounts]:
    return list(ReasonCounts.query(f"REASONS#{list_id}", ReasonCounts.sk.between(first_month, last_month)))


def subscribe(
    subscriber_id: str,
    email: str,
    list_id: str,
    ctx: AuditContext,
    now: datetime,
    resubscribe: bool = False,
) -> str:
    """Add a subscriber to a list. Someone who unsubscribed is never brought back by an import;
    only an explicit `resubscribe` (consent given again) does that.

    Returns one of: subscribed, resubscribed, already_subscribed, previously_unsubscribed.
    """
    action = "resubscribe" if resubscribe else "subscribe"
    event = _event(subscriber_id, action, list_id, ctx, now)
    condition = Subscription.status.does_not_exist()
    if resubscribe:
        condition = condition | (Subscription.status == consent.UNSUBSCRIBED)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.condition_check(MailingList, list_id, condition=MailingList.list_id.exists())
            transaction.update(
                Subscription(subscriber_id, list_key(list_id)),
                actions=[
                    Subscription.list_id.set(list_id),
                    Subscription.status.set(consent.ACTIVE),
                    Subscription.subscribed_at.set(now),
                    Subscription.unsubscribed_at.remove(),
                    Subscription.paused_until.remove(),
                    Subscription.last_event.set(event.sk),
                    Subscription.email.set(email),
                    *_restart_sunset(subscriber_id, list_id, now),
                ],
                condition=condition,
                return_values="ALL_OLD",
            )
            transaction.update(_members(list_id, subscriber_id), actions=[ListMembers.members.add(1)])
            profile_actions = [Profile.email.set(email), Profile.created_at.set(Profile.created_at | now)]
            if resubscribe:
                profile_actions.append(Profile.opted_out_all.set(False))
            transaction.update(Profile(subscriber_id, PROFILE), actions=profile_actions)
            transaction.save(event, condition=ConsentEvent.sk.does_not_exist())
    except TransactWriteError as error:
        reasons = cancellation_reasons(error)
        if _failed(reasons, 0):
            raise UnknownList(list_id) from error
        if _failed(reasons, update_position(transaction, 0)):
            status = ((reasons[update_position(transaction, 0)].raw_item or {}).get("status") or {}).get("S")
            return "previously_unsubscribed" if status == consent.UNSUBSCRIBED else "already_subscribed"
        raise
    return "resubscribed" if resubscribe else "subscribed"


def get_profile(subscriber_id: str) -> Profile | None:
    try:
        return Profile.get(subscriber_id, PROFILE)
    except DoesNotExist:
        return None


def get_subscription(subscriber_id: str, list_id: str) -> Subscription | None:
    try:
        return Subscription.get(subscriber_id, list_key(list_id))
    except DoesNotExist:
        return None


def get_event(subscriber_id: str, key: str) -> ConsentEvent | None:
    if not key.startswith("EVENT#"):
        return None
    try:
        return ConsentEvent.get(subscriber_id, key)
    except DoesNotExist:
        return None


def subscriptions_of(subscriber_id: str) -> list[Subscription]:
    return list(Subscription.query(subscriber_id, Subscription.sk.startswith("LIST#")))


def consent_events(subscriber_id: str) -> Iterator[ConsentEvent]:
    return ConsentEvent.query(subscriber_id, ConsentEvent.sk.startswith("EVENT#"))


def permission_records(list_id: str, subscriber_ids: list[str]) -> tuple[dict[str, Subscription], dict[str, Profile]]:
    """Two batched reads (≤ 100 keys each): the subscriptions to the list and the profiles."""
    subscriptions = {s.pk: s for s in Subscription.batch_get([(sid, list_key(list_id)) for sid in subscriber_ids])}
    profiles = {p.pk: p for p in Profile.batch_get([(sid, PROFILE) for sid in subscriber_ids])}
    return subscriptions, profiles


# Engagement (SES events, the generic webhook, "keep me subscribed").


def record_engagement(subscriber_id: str, list_id: str, at: datetime) -> bool:
    """Move `last_engaged_at` forward only (events arrive late and twice), restart the sunset
    clock and end a pending re-permission. False when nothing moved."""
    return written(
        lambda: Subscription(subscriber_id, list_key(list_id)).update(
            actions=[Subscription.last_engaged_at.set(at), *_restart_sunset(subscriber_id, list_id, at)],
            condition=Subscription.status.is_in(consent.ACTIVE, consent.PAUSED)
            & (Subscription.last_engaged_at.does_not_exist() | (Subscription.last_engaged_at < at)),
        )
    )


def count_send(subscriber_id: str, list_id: str, message_id: str, now: datetime) -> str:
    """One more email received since the last engagement, once per message: counted,
    duplicate or not_subscribed."""
    transaction = TransactWrite(connection=connection())
    transaction.save(
        SendMark(f"MSG#{message_id}", "SENT", ttl=now + SEND_MARK_RETENTION), condition=SendMark.pk.does_not_exist()
    )
    transaction.update(
        Subscription(subscriber_id, list_key(list_id)),
        actions=[Subscription.sends_since_engaged.add(1)],
        condition=Subscription.status.is_in(consent.ACTIVE, consent.PAUSED),
    )
    try:
        transaction._commit()
    except TransactWriteError as error:
        reasons = cancellation_reasons(error)
        if _failed(reasons, 0):
            return "duplicate"
        if _failed(reasons, update_position(transaction, 0)):
            return "not_subscribed"
        raise
    return "counted"


def suppress_channel(subscriber_id: str, channel: str, ctx: AuditContext, now: datetime) -> bool:
    """A permanent bounce: stop sending on this channel, recorded once in the audit trail."""
    event = _event(subscriber_id, f"suppress_{channel}", "*", ctx, now)
    transaction = TransactWrite(connection=connection())
    transaction.update(
        Profile(subscriber_id, PROFILE),
        actions=[Profile.suppressed_channels.add({channel})],
        condition=Profile.suppressed_channels.does_not_exist() | ~Profile.suppressed_channels.contains(channel),
    )
    transaction.save(event, condition=ConsentEvent.sk.does_not_exist())
    return commit_unless(transaction, update_position(transaction, 0))


def count_transient_bounce(subscriber_id: str) -> None:
    Profile(subscriber_id, PROFILE).update(actions=[Profile.transient_bounces.add(1)])


# The sunset job's reads and conditional transitions.


def due_page(due: str, last_key: dict | None, page_size: int = 200) -> tuple[list[Subscription], dict | None]:
    """One page of the sparse index partition `due` (a date and a shard)."""
    results = Subscription.sunset_index.query(due, limit=page_size, last_evaluated_key=last_key, page_size=page_size)
    items = list(results)
    return items, results.last_evaluated_key


def _unchanged_since_read(candidate: Subscription):
    """The job only acts on what it read: any engagement or choice since moves `sunset_due` or
    the state, and the write fails."""
    condition = Subscription.sunset_due == candidate.sunset_due
    if candidate.sunset_state is None:
        return condition & Subscription.sunset_state.does_not_exist()
    return condition & (Subscription.sunset_state == candidate.sunset_state)


def _conditional_update(subscription: Subscription, actions: list, condition) -> bool:
    return written(lambda: Subscription(subscription.pk, subscription.sk).update(actions=actions, condition=condition))


def reschedule(candidate: Subscription, when: datetime) -> bool:
    from chalicelib.sunset_policy import due_key

    return _conditional_update(
        candidate, [Subscription.sunset_due.set(due_key(when, candidate.pk))], _unchanged_since_read(candidate)
    )


def mark_pending(candidate: Subscription, now: datetime) -> bool:
    """Step 1, before the email goes out: a second run (or an overlapping one) finds it taken."""
    actions = [Subscription.sunset_state.set("pending"), Subscription.pending_since.set(now)]
    condition = _unchanged_since_read(candidate) & (Subscription.status == consent.ACTIVE)
    if candidate.sunset_state == "pending":  # recovering a run that stopped before sending
        actions = [Subscription.pending_since.set(now)]
        condition = condition & Subscription.reminder_sent_at.does_not_exist()
    return _conditional_update(candidate, actions, condition)


def mark_reminded(candidate: Subscription, now: datetime, unsubscribe_on: datetime) -> bool:
    from chalicelib.sunset_policy import due_key

    return _conditional_update(
        candidate,
        [Subscription.reminder_sent_at.set(now), Subscription.sunset_due.set(due_key(unsubscribe_on, candidate.pk))],
        (Subscription.sunset_state == "pending") & Subscription.reminder_sent_at.does_not_exist(),
    )


def release_pending(candidate: Subscription, retry_on: datetime) -> bool:
    """The email could not be sent: back to active, to be tried again."""
    from chalicelib.sunset_policy import due_key

    return _conditional_update(
        candidate,
        [
            Subscription.sunset_state.remove(),
            Subscription.pending_since.remove(),
            Subscription.sunset_due.set(due_key(retry_on, candidate.pk)),
        ],
        (Subscription.sunset_state == "pending") & Subscription.reminder_sent_at.does_not_exist(),
    )


def sunset_unsubscribe(candidate: Subscription, now: datetime) -> bool:
    """Step 2: still no engagement after the grace period. Source "sunset" in the audit trail,
    distinct from a person's own choice; a later subscribe brings them back."""
    event = _event(candidate.pk, "unsubscribe", candidate.list_id, AuditContext("sunset"), now)
    transaction = TransactWrite(connection=connection())
    transaction.update(
        Subscription(candidate.pk, candidate.sk),
        actions=[
            Subscription.status.set(consent.UNSUBSCRIBED),
            Subscription.unsubscribed_at.set(now),
            Subscription.last_event.set(event.sk),
            *_leave_sunset(),
        ],
        condition=_unchanged_since_read(candidate)
        & (Subscription.sunset_state == "pending")
        & Subscription.reminder_sent_at.exists()
        & (Subscription.status == consent.ACTIVE),
    )
    transaction.update(_members(candidate.list_id, candidate.pk), actions=[ListMembers.members.add(-1)])
    transaction.save(event, condition=ConsentEvent.sk.does_not_exist())
    return commit_unless(transaction, update_position(transaction, 0))


# Privacy: everything held about a subscriber, and its erasure.


def everything_about(subscriber_id: str) -> tuple[Profile | None, list[Subscription], list[ConsentEvent]]:
    return get_profile(subscriber_id), subscriptions_of(subscriber_id), list(consent_events(subscriber_id))


def erase(subscriber_id: str, now: datetime) -> dict:
    """Forget the person, keep the choice: the address, engagement history and audit trail go;
    what stays is the opaque id (an HMAC of the address) marked opted out of everything, with
    each list unsubscribed, so a later import of the same address cannot bring them back.
    Idempotent: running it again finishes an erasure that stopped half-way."""
    if any(s.status != consent.UNSUBSCRIBED for s in subscriptions_of(subscriber_id)):
        unsubscribe_all(subscriber_id, AuditContext("erasure"), now)  # also keeps member counts right
    profile, subscriptions, events = everything_about(subscriber_id)
    with Profile.batch_write() as batch:
        batch.save(
            Profile(
                subscriber_id,
                PROFILE,
                opted_out_all=True,
                suppressed_channels=(profile.suppressed_channels if profile else None) or None,
                erased_at=now,
            )
        )
    with Subscription.batch_write() as batch:
        for s in subscriptions:
            batch.save(
                Subscription(
                    subscriber_id,
                    s.sk,
                    list_id=s.list_id,
                    status=consent.UNSUBSCRIBED,
                    unsubscribed_at=s.unsubscribed_at or now,
                )
            )
    with ConsentEvent.batch_write() as batch:
        for event in events:
            batch.delete(event)
    return {
        "subscriber_id": subscriber_id,
        "lists_kept_as_unsubscribed": len(subscriptions),
        "events_deleted": len(events),
    }
