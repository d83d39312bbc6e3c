"""Changes of consent. Each is one DynamoDB transaction: the subscription's conditional update,
the list's member counter and the audit event are written together or not at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.core import consent
from chalicelib.storage.lists import MailingList
from chalicelib.storage.subscribers.counters import EVERY_LIST, count_in
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
    request_token,
    restart_sunset,
)
from chalicelib.storage.subscribers.reads import get_event, subscriptions_of
from chalicelib.storage.transactions import ConditionsFailed, Transaction


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
        count_in(transaction, list_id, subscriber_id, now, [f"unsubscribe#{ctx.source}"])
        transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
        try:
            transaction.commit(request_token(event))
            return Change(True, event.sk, consent.UNSUBSCRIBED)
        except ConditionsFailed as failed:
            if "list" in failed:
                raise UnknownList(list_id) from failed
            if _landed(failed):
                return Change(True, event.sk, consent.UNSUBSCRIBED)
            if "subscription" not in failed:
                raise
            if failed.failed["subscription"]:  # it exists, and is unsubscribed already
                return Change(False, failed.old("subscription", "last_event"), consent.UNSUBSCRIBED)
        if _record_unknown_unsubscribe(subscriber_id, list_id, event, now):
            return Change(True, event.sk, consent.UNSUBSCRIBED)
    raise ConcurrentChange(subscriber_id)


def _landed(failed: ConditionsFailed) -> bool:
    """Our own event exists already: an earlier attempt of this very change committed (a
    retried request whose first answer was lost), so this one is done, not refused. Event keys
    hold a random part: nobody else writes the same one."""
    return "event" in failed


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
    count_in(transaction, list_id, subscriber_id, now, [f"unsubscribe#{event.source}"])
    transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    return transaction.commit_unless("subscription")  # False: created meanwhile, go round again


# A repeated pause that would move its end by less than this is the same pause (a double click).
PAUSE_REPEAT_WINDOW = timedelta(hours=1)


def pause(subscriber_id: str, list_id: str, until: datetime, ctx: AuditContext, now: datetime) -> Change:
    """Pause a list until `until`. Pausing again extends the pause; repeating the same pause (a
    double click, a retry) changes nothing and records nothing."""
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
        condition=(Subscription.status == consent.ACTIVE)
        | (
            (Subscription.status == consent.PAUSED)
            & (Subscription.paused_until.does_not_exist() | (Subscription.paused_until < until - PAUSE_REPEAT_WINDOW))
        ),
        keep_old=True,
    )
    count_in(transaction, list_id, subscriber_id, now, [f"pause#{ctx.source}"])
    transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    try:
        transaction.commit(request_token(event))
    except ConditionsFailed as failed:
        if _landed(failed):
            return Change(True, event.sk, consent.PAUSED)
        if "subscription" not in failed:
            raise
        return Change(False, failed.old("subscription", "last_event"), failed.old("subscription", "status"))
    return Change(True, event.sk, consent.PAUSED)


# A transaction holds at most 100 items: a subscription and its member counter take two.
LISTS_PER_TRANSACTION = 45


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _leave(transaction: Transaction, subscriber_id: str, s: Subscription, event_key: str, now: datetime) -> None:
    transaction.update(
        f"subscription:{s.list_id}",
        s,
        actions=[
            Subscription.status.set(consent.UNSUBSCRIBED),
            Subscription.unsubscribed_at.set(now),
            Subscription.paused_until.remove(),
            Subscription.last_event.set(event_key),
            *leave_sunset(),
        ],
        condition=Subscription.status == s.status,
    )
    transaction.update(f"members:{s.list_id}", members_counter(s.list_id, subscriber_id), [ListMembers.members.add(-1)])


def _opted_out_unchanged(profile: Profile | None):
    """The profile still says what we read about opting out of everything."""
    if profile is not None and profile.opted_out_all:
        return Profile.opted_out_all == True  # noqa: E712  (a DynamoDB condition, not a comparison)
    return Profile.opted_out_all.does_not_exist() | (Profile.opted_out_all == False)  # noqa: E712


def unsubscribe_all(subscriber_id: str, ctx: AuditContext, now: datetime, attempts: int = 5) -> Change:
    """Leave every list and opt out of future ones, as one consent event.

    The opted-out-of-everything flag is written first, with the event and the first lists, so
    nothing can be sent in between; the remaining lists follow in as many transactions as needed
    (a transaction holds at most 100 items), each conditional on the status read, so concurrent
    changes make us re-read and nothing is done twice. Repeating it (a double click, concurrent
    posts) when everything is already stopped changes nothing and records nothing: the answer
    names the event that stopped everything.
    """
    from chalicelib.storage.subscribers.reads import get_profile

    event = None
    for _ in range(attempts):
        profile = get_profile(subscriber_id)
        left = [s for s in subscriptions_of(subscriber_id) if s.status != consent.UNSUBSCRIBED]
        if event is None:
            if not left and profile is not None and profile.opted_out_all:
                return Change(False, profile.opted_out_event, consent.UNSUBSCRIBED)
            event = new_event(subscriber_id, "unsubscribe_all", "*", ctx, now, lists=[s.list_id for s in left])
            first, rest = (left[:LISTS_PER_TRANSACTION], left[LISTS_PER_TRANSACTION:])
            transaction = Transaction()
            transaction.update(
                "profile",
                Profile(subscriber_id, PROFILE),
                [Profile.opted_out_all.set(True), Profile.opted_out_event.set(event.sk)],
                condition=_opted_out_unchanged(profile),
            )
            transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
            for s in first:
                _leave(transaction, subscriber_id, s, event.sk, now)
            left_names = [f"unsubscribe#{ctx.source}@{s.list_id}" for s in first]
            count_in(transaction, EVERY_LIST, subscriber_id, now, [f"unsubscribe_all#{ctx.source}", *left_names])
            try:
                transaction.commit(request_token(event))
            except ConditionsFailed as failed:
                if not _landed(failed):
                    event = None  # someone changed the state between our read and write: read again
                    continue
            left = rest
        for chunk in _chunks(left, LISTS_PER_TRANSACTION):
            if not chunk:
                continue
            transaction = Transaction()
            for s in chunk:
                _leave(transaction, subscriber_id, s, event.sk, now)
            count_in(
                transaction, EVERY_LIST, subscriber_id, now, [f"unsubscribe#{ctx.source}@{s.list_id}" for s in chunk]
            )
            try:
                transaction.commit()
            except ConditionsFailed:
                break  # a list changed meanwhile: read again and finish what is left
        else:
            return Change(True, event.sk, consent.UNSUBSCRIBED)
    if event is not None:
        return Change(True, event.sk, consent.UNSUBSCRIBED)  # stopped everything; a list changed since
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
    never overrides a later choice, and a second undo changes nothing. Undoing "stop everything"
    when none of its lists can come back any more is refused (the page says so), unless it
    covered no list at all (then it only lifts the opt-out of future lists).
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
        if not to_restore and (not covers_all or lists):
            return Change(False, None)
        event = new_event(
            subscriber_id, consent.UNDO_ACTION[original.action], original.list_id, ctx, now, lists=original.lists
        )
        chunks = _chunks(to_restore, LISTS_PER_TRANSACTION)
        for number, chunk in enumerate(chunks):
            transaction = Transaction()
            for s in chunk:
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
            if number == 0:
                if covers_all:
                    transaction.update(
                        "profile",
                        Profile(subscriber_id, PROFILE),
                        actions=[Profile.opted_out_all.set(False), Profile.undone.add({undone_key})],
                        condition=Profile.undone.does_not_exist() | ~Profile.undone.contains(undone_key),
                    )
                transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
            returned = consent.UNDO_ACTION[original.action]  # counted as a return: resubscribe or resume
            if covers_all:
                names = [f"{returned}#{ctx.source}@{s.list_id}" for s in chunk]
                count_in(
                    transaction,
                    EVERY_LIST,
                    subscriber_id,
                    now,
                    names + ([f"{returned}_all#{ctx.source}"] if number == 0 else []),
                )
            elif number == 0:
                count_in(transaction, original.list_id, subscriber_id, now, [f"{returned}#{ctx.source}"])
            try:
                transaction.commit(request_token(event) if number == 0 else None)
            except ConditionsFailed as failed:
                if number == 0 and "profile" in failed:
                    return Change(False, None)  # this opt-out was already undone
                if number == 0 and not _landed(failed):
                    break  # a list changed since we read: read again
                # a later chunk: the lists that changed keep their later choice
        else:
            return Change(True, event.sk, consent.ACTIVE)
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
        transaction.commit(request_token(event))
    except ConditionsFailed as failed:
        if "list" in failed:
            raise UnknownList(list_id) from failed
        if _landed(failed):
            return "resubscribed" if resubscribe else "subscribed"
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
