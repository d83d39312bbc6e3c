"""Changes of consent. Each is one DynamoDB transaction: the subscription's conditional update,
the list's member counter and the audit event are written together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.core import consent
from chalicelib.storage.lists import MailingList
from chalicelib.storage.subscribers.models import (
    PROFILE,
    AuditContext,
    ConsentEvent,
    ListMembers,
    Profile,
    ReasonCounts,
    Subscription,
    leave_sunset,
    list_key,
    members_counter,
    new_event,
    restart_sunset,
)
from chalicelib.storage.subscribers.reads import get_event, subscriptions_of
from chalicelib.storage.transactions import ConditionsFailed, Transaction

MAX_LISTS_PER_CHANGE = 45  # a transaction holds at most 100 items: a subscription and a counter each


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


def _list_exists(transaction: Transaction, list_id: str) -> Transaction:
    return transaction.check("list", MailingList, list_id, condition=MailingList.list_id.exists())


def unsubscribe(subscriber_id: str, list_id: str, ctx: AuditContext, now: datetime, attempts: int = 3) -> Change:
    """One round trip in the usual case: list check, conditional status change, member counter
    and audit event in one transaction. Repeating it changes nothing and keeps the first
    `unsubscribed_at`. A subscription we never saw is created as unsubscribed (a second round
    trip), so the choice holds if the sender imports the address later.
    """
    event = new_event(subscriber_id, "unsubscribe", list_id, ctx, now)
    for _ in range(attempts):
        transaction = _list_exists(Transaction(), list_id)
        transaction.update(
            "subscription",
            Subscription(subscriber_id, list_key(list_id)),
            actions=[
                Subscription.status.set(consent.UNSUBSCRIBED),
                Subscription.unsubscribed_at.set(now),
                Subscription.paused_until.remove(),
                Subscription.last_event.set(event.sk),
                *leave_sunset(),
            ],
            condition=Subscription.status.is_in(consent.ACTIVE, consent.PAUSED),
            keep_old=True,
        )
        transaction.update("members", members_counter(list_id, subscriber_id), [ListMembers.members.add(-1)])
        transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
        try:
            transaction.commit()
            return Change(True, event.sk, consent.UNSUBSCRIBED)
        except ConditionsFailed as failed:
            if "list" in failed:
                raise UnknownList(list_id) from failed
            if "subscription" not in failed:
                raise
            if failed.failed["subscription"]:  # it exists, and is unsubscribed already
                return Change(False, failed.old("subscription", "last_event"), consent.UNSUBSCRIBED)
        if _record_unknown_unsubscribe(subscriber_id, list_id, event, now):
            return Change(True, event.sk, consent.UNSUBSCRIBED)
    raise ConcurrentChange(subscriber_id)


def _record_unknown_unsubscribe(subscriber_id: str, list_id: str, event: ConsentEvent, now: datetime) -> bool:
    transaction = Transaction().update(
        "subscription",
        Subscription(subscriber_id, list_key(list_id)),
        actions=[
            Subscription.list_id.set(list_id),
            Subscription.status.set(consent.UNSUBSCRIBED),
            Subscription.unsubscribed_at.set(now),
            Subscription.last_event.set(event.sk),
        ],
        condition=Subscription.status.does_not_exist(),
    )
    transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    return transaction.commit_unless("subscription")  # False: created meanwhile, go round again


def pause(subscriber_id: str, list_id: str, until: datetime, ctx: AuditContext, now: datetime) -> Change:
    event = new_event(subscriber_id, "pause", list_id, ctx, now)
    event.until = until
    transaction = Transaction().update(
        "subscription",
        Subscription(subscriber_id, list_key(list_id)),
        actions=[
            Subscription.status.set(consent.PAUSED),
            Subscription.paused_until.set(until),
            Subscription.last_event.set(event.sk),
        ],
        condition=Subscription.status.is_in(consent.ACTIVE, consent.PAUSED),
        keep_old=True,
    )
    transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    try:
        transaction.commit()
    except ConditionsFailed as failed:
        if "subscription" not in failed:
            raise
        return Change(False, failed.old("subscription", "last_event"), failed.old("subscription", "status"))
    return Change(True, event.sk, consent.PAUSED)


def unsubscribe_all(subscriber_id: str, ctx: AuditContext, now: datetime, attempts: int = 3) -> Change:
    """Leave every list and opt out of future ones. Each subscription is updated on the
    condition that it still has the status we read, so a concurrent change makes us re-read."""
    for _ in range(attempts):
        subscriptions = [s for s in subscriptions_of(subscriber_id) if s.status != consent.UNSUBSCRIBED][
            :MAX_LISTS_PER_CHANGE
        ]
        event = new_event(subscriber_id, "unsubscribe_all", "*", ctx, now, lists=[s.list_id for s in subscriptions])
        transaction = Transaction()
        for s in subscriptions:
            transaction.update(
                f"subscription:{s.list_id}",
                s,
                actions=[
                    Subscription.status.set(consent.UNSUBSCRIBED),
                    Subscription.unsubscribed_at.set(now),
                    Subscription.paused_until.remove(),
                    Subscription.last_event.set(event.sk),
                    *leave_sunset(),
                ],
                condition=Subscription.status == s.status,
            )
            transaction.update(
                f"members:{s.list_id}", members_counter(s.list_id, subscriber_id), [ListMembers.members.add(-1)]
            )
        transaction.update("profile", Profile(subscriber_id, PROFILE), [Profile.opted_out_all.set(True)])
        transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
        try:
            transaction.commit()
            return Change(True, event.sk, consent.UNSUBSCRIBED)
        except ConditionsFailed:
            continue
    raise ConcurrentChange(subscriber_id)


def undo(
    subscriber_id: str,
    list_id: str,
    undone_key: str,
    ctx: AuditContext,
    now: datetime,
    sunset_due: datetime,
    attempts: int = 3,
) -> Change:
    """Revert the change recorded by `undone_key`, for the lists it still governs; a list that
    rejoins is next due for the sunset job on `sunset_due`.

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
    rejoins = original.action != "pause"  # a resume keeps the member count and the sunset clock
    for _ in range(attempts):
        to_restore = [s for s in subscriptions_of(subscriber_id) if s.list_id in lists and s.last_event == undone_key]
        if not to_restore and not covers_all:
            return Change(False, None)
        event = new_event(
            subscriber_id, consent.UNDO_ACTION[original.action], original.list_id, ctx, now, lists=original.lists
        )
        transaction = Transaction()
        for s in to_restore:
            transaction.update(
                f"subscription:{s.list_id}",
                s,
                actions=[
                    Subscription.status.set(consent.ACTIVE),
                    Subscription.unsubscribed_at.remove(),
                    Subscription.paused_until.remove(),
                    Subscription.last_event.set(event.sk),
                    *(restart_sunset(subscriber_id, sunset_due) if rejoins else []),
                ],
                condition=Subscription.last_event == undone_key,
            )
            if rejoins:
                transaction.update(
                    f"members:{s.list_id}", members_counter(s.list_id, subscriber_id), [ListMembers.members.add(1)]
                )
        if covers_all:
            transaction.update(
                "profile",
                Profile(subscriber_id, PROFILE),
                actions=[Profile.opted_out_all.set(False), Profile.undone.add({undone_key})],
                condition=Profile.undone.does_not_exist() | ~Profile.undone.contains(undone_key),
            )
        transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
        try:
            transaction.commit()
            return Change(True, event.sk, consent.ACTIVE)
        except ConditionsFailed as failed:
            if "profile" in failed:
                return Change(False, None)  # this opt-out was already undone
    raise ConcurrentChange(subscriber_id)


def subscribe(
    subscriber_id: str,
    email: str,
    list_id: str,
    ctx: AuditContext,
    now: datetime,
    sunset_due: datetime,
    resubscribe: bool = False,
) -> str:
    """Add a subscriber to a list, next due for the sunset job on `sunset_due`. Someone who
    unsubscribed is never brought back by an import; only an explicit `resubscribe` (consent
    given again) does that.

    Returns one of: subscribed, resubscribed, already_subscribed, previously_unsubscribed.
    """
    action = "resubscribe" if resubscribe else "subscribe"
    event = new_event(subscriber_id, action, list_id, ctx, now)
    condition = Subscription.status.does_not_exist()
    if resubscribe:
        condition = condition | (Subscription.status == consent.UNSUBSCRIBED)
    transaction = _list_exists(Transaction(), list_id)
    transaction.update(
        "subscription",
        Subscription(subscriber_id, list_key(list_id)),
        actions=[
            Subscription.list_id.set(list_id),
            Subscription.status.set(consent.ACTIVE),
            Subscription.subscribed_at.set(now),
            Subscription.unsubscribed_at.remove(),
            Subscription.paused_until.remove(),
            Subscription.last_event.set(event.sk),
            Subscription.email.set(email),
            *restart_sunset(subscriber_id, sunset_due),
        ],
        condition=condition,
        keep_old=True,
    )
    transaction.update("members", members_counter(list_id, subscriber_id), [ListMembers.members.add(1)])
    profile_actions = [Profile.email.set(email), Profile.created_at.set(Profile.created_at | now)]
    if resubscribe:
        profile_actions.append(Profile.opted_out_all.set(False))
    transaction.update("profile", Profile(subscriber_id, PROFILE), profile_actions)
    transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    try:
        transaction.commit()
    except ConditionsFailed as failed:
        if "list" in failed:
            raise UnknownList(list_id) from failed
        if "subscription" in failed:
            unsubscribed = failed.old("subscription", "status") == consent.UNSUBSCRIBED
            return "previously_unsubscribed" if unsubscribed else "already_subscribed"
        raise
    return "resubscribed" if resubscribe else "subscribed"


def record_survey(subscriber_id: str, list_id: str, key: str, reason: str, comment: str | None, now: datetime) -> bool:
    """Attach the exit survey to the event it explains (answered once, never overwritten) and
    count the reason for the list's monthly report, in one transaction."""
    transaction = Transaction().update(
        "event",
        ConsentEvent(subscriber_id, key),
        actions=[ConsentEvent.reason.set(reason), ConsentEvent.comment.set(comment)],
        condition=ConsentEvent.sk.exists()
        & ConsentEvent.list_id.is_in(list_id, "*")
        & ConsentEvent.action.is_in(*consent.UNDO_ACTION)
        & ConsentEvent.reason.does_not_exist(),
    )
    transaction.update(
        "counts", ReasonCounts(f"REASONS#{list_id}", f"{now:%Y-%m}"), [getattr(ReasonCounts, reason).add(1)]
    )
    return transaction.commit_unless("event")


def suppress_channel(subscriber_id: str, channel: str, ctx: AuditContext, now: datetime) -> bool:
    """Stop sending on this channel (a permanent bounce), recorded once in the audit trail."""
    event = new_event(subscriber_id, f"suppress_{channel}", "*", ctx, now)
    transaction = Transaction().update(
        "profile",
        Profile(subscriber_id, PROFILE),
        actions=[Profile.suppressed_channels.add({channel})],
        condition=Profile.suppressed_channels.does_not_exist() | ~Profile.suppressed_channels.contains(channel),
    )
    transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    return transaction.commit_unless("profile")
