"""The subscribers table family: one partition per subscriber holding its profile, its
subscriptions (`LIST#<list>`) and its append-only consent events (`EVENT#<time>#<random>`).

Every change of consent is one DynamoDB transaction: the subscription's conditional update
and the audit event are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import consent
from chalicelib.identity import event_key
from chalicelib.storage.connection import SUBSCRIBERS_TABLE, TableMeta, connection
from chalicelib.storage.lists import MailingList
from chalicelib.storage.transactions import cancellation_reasons, update_position

PROFILE = "PROFILE"
MAX_LISTS_PER_CHANGE = 90  # a transaction holds at most 100 items


def list_key(list_id: str) -> str:
    return f"LIST#{list_id}"


class _SubscriberPartition(Model):
    class Meta(TableMeta):
        table_name = SUBSCRIBERS_TABLE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class Profile(_SubscriberPartition):
    email = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(null=True)
    opted_out_all = BooleanAttribute(null=True)
    suppressed_channels = UnicodeSetAttribute(null=True)
    undone = UnicodeSetAttribute(null=True)  # opt-outs of every list that were undone, so each is undone once


class Subscription(_SubscriberPartition):
    list_id = UnicodeAttribute()
    status = UnicodeAttribute()
    subscribed_at = UTCDateTimeAttribute(null=True)
    unsubscribed_at = UTCDateTimeAttribute(null=True)
    paused_until = UTCDateTimeAttribute(null=True)
    last_event = UnicodeAttribute(null=True)


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


def unsubscribe(subscriber_id: str, list_id: str, ctx: AuditContext, now: datetime) -> Change:
    """One round trip: list check, conditional status change and audit event in one transaction.

    A subscription we never saw is created as unsubscribed, so the choice holds if the sender
    imports the address later. Repeating it changes nothing and keeps the first `unsubscribed_at`.
    """
    event = _event(subscriber_id, "unsubscribe", list_id, ctx, now)
    subscription = Subscription(subscriber_id, list_key(list_id))
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.condition_check(MailingList, list_id, condition=MailingList.list_id.exists())
            transaction.update(
                subscription,
                actions=[
                    Subscription.list_id.set(list_id),
                    Subscription.status.set(consent.UNSUBSCRIBED),
                    Subscription.unsubscribed_at.set(now),
                    Subscription.paused_until.remove(),
                    Subscription.last_event.set(event.sk),
                ],
                condition=Subscription.status.does_not_exist() | (Subscription.status != consent.UNSUBSCRIBED),
                return_values="ALL_OLD",
            )
            transaction.save(event, condition=ConsentEvent.sk.does_not_exist())
    except TransactWriteError as error:
        reasons = cancellation_reasons(error)
        if _failed(reasons, 0):
            raise UnknownList(list_id) from error
        if _failed(reasons, update_position(transaction, 0)):
            old = reasons[update_position(transaction, 0)].raw_item or {}
            return Change(False, (old.get("last_event") or {}).get("S"), consent.UNSUBSCRIBED)
        raise
    return Change(True, event.sk, consent.UNSUBSCRIBED)


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
                ],
                condition=Subscription.status == s.status,
            )
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

        transaction = TransactWrite(connection=connection())
        for s in to_restore:
            transaction.update(
                s,
                actions=[
                    Subscription.status.set(consent.ACTIVE),
                    Subscription.unsubscribed_at.remove(),
                    Subscription.paused_until.remove(),
                    Subscription.last_event.set(event.sk),
                ],
                condition=Subscription.last_event == undone_key,
            )
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
            if covers_all and _failed(reasons, update_position(transaction, len(to_restore))):
                return Change(False, None)  # this opt-out was already undone
            if not any(r is not None and r.code == "ConditionalCheckFailed" for r in reasons):
                raise
    raise ConcurrentChange(subscriber_id)


def record_survey(subscriber_id: str, list_id: str, key: str, reason: str, comment: str | None) -> bool:
    """Attach the exit survey to the event it explains; answered once, never overwritten."""
    try:
        ConsentEvent(subscriber_id, key).update(
            actions=[ConsentEvent.reason.set(reason), ConsentEvent.comment.set(comment)],
            condition=ConsentEvent.sk.exists()
            & ConsentEvent.list_id.is_in(list_id, "*")
            & ConsentEvent.action.is_in(*consent.UNDO_ACTION)
            & ConsentEvent.reason.does_not_exist(),
        )
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


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
        condition = condition | (Subscription.status != consent.ACTIVE)
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
                ],
                condition=condition,
                return_values="ALL_OLD",
            )
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
            return "already_subscribed" if status == consent.ACTIVE else "previously_unsubscribed"
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
