"""Changes of consent, committed. The domain (`chalicelib.domain.consent`) plans each change;
`commit_plan` turns the plan into DynamoDB conditions and one transaction (the subscription's
conditional update, the list's member counter, the leaving counters and the audit event, all or
nothing), or the fewest transactions when a change covers more lists than one can hold. When a
precondition no longer holds it answers `Stale` with the items as they were (`ALL_OLD`), and the
change is planned again from them: "already done" is only ever decided by the planner.

The functions that make a change (`unsubscribe`, `subscribe`, `undo`, ...) read and commit
through the selected consent store (`storage.store`): `commit_plan` here, or the in-memory one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.core.errors import Unavailable
from chalicelib.domain import consent
from chalicelib.domain.consent import (
    ANY,
    LISTS_PER_TRANSACTION,
    UNKNOWN,
    EventState,
    NumberState,
    Plan,
    ProfileState,
    ProfileWrite,
    Status,
    SubscriptionState,
    SubscriptionWrite,
    Sunset,
)
from chalicelib.storage.lists import MailingList, UnknownList
from chalicelib.storage.store import Stale, consent_store
from chalicelib.storage.subscribers.counters import count_in
from chalicelib.storage.subscribers.models import (
    PROFILE,
    AuditContext,
    ConsentEvent,
    ListMembers,
    Profile,
    ReasonCounts,
    Subscription,
    consent_event,
    leave_sunset,
    list_key,
    members_counter,
    request_token,
    restart_sunset,
)
from chalicelib.storage.transactions import ConditionsFailed, Transaction, storage_errors


@dataclass(frozen=True)
class Change:
    """What a consent change did: `applied` is False when the state already was the asked one
    (`outcome` says why); `event_key` names the event written, or the one that did it before."""

    applied: bool
    event_key: str | None
    status: str | None = None
    outcome: str | None = None

    @classmethod
    def of(cls, plan: Plan) -> Change:
        return cls(plan.applied, plan.event_key, plan.status, plan.outcome)


class ConcurrentChange(Unavailable):
    """The subscriber's state changed between our read and our write too often to finish."""

    def __init__(self, subscriber_id: str = ""):
        super().__init__("unavailable", "try again shortly")


# State as the planners read it.


def subscription_state(item: Subscription | None, list_id: str, last_source: str | None = None) -> SubscriptionState:
    if item is None:
        return SubscriptionState(list_id)
    return SubscriptionState(
        item.list_id or list_id,
        Status(item.status) if item.status else None,
        item.last_event,
        item.paused_until,
        item.frequency,
        last_source,
        item.sunset_due,
        item.sunset_state,
        item.reminder_sent_at is not None,
    )


def profile_state(item: Profile | None) -> ProfileState | None:
    if item is None:
        return None
    return ProfileState(
        bool(item.opted_out_all),
        item.opted_out_event,
        frozenset(item.suppressed_channels or ()),
        frozenset(item.undone or ()),
        item.email,
        item.opted_out_source,
    )


def number_state(item: Profile | None) -> NumberState:
    """A phone number's profile, as the SMS keyword planner reads it."""
    if item is None:
        return NumberState()
    return NumberState(consent.SMS in (item.suppressed_channels or ()), item.sms_keyword_at)


def event_state(item: ConsentEvent | None) -> EventState | None:
    if item is None:
        return None
    return EventState(
        item.sk,
        item.action,
        item.list_id,
        item.at,
        tuple(item.lists or ()),
        item.frequency,
        item.frequency_before,
        item.source,
    )


def _old_subscription(raw: dict, list_id: str) -> SubscriptionState:
    return subscription_state(Subscription.from_raw_data(raw) if raw else None, list_id)


def _old_profile(raw: dict) -> ProfileState:
    return profile_state(Profile.from_raw_data(raw)) if raw else consent.NO_PROFILE


def _old_number(raw: dict) -> NumberState:
    return number_state(Profile.from_raw_data(raw) if raw else None)


# A plan, committed.


def _status_condition(expect: consent.Expect):
    statuses = [s for s in expect.statuses if s is not None]
    pause_clause = expect.pause_ends_before is not None and consent.PAUSED in statuses
    if not pause_clause and None not in expect.statuses:
        return Subscription.status.is_in(*sorted(statuses))
    parts = [Subscription.status.does_not_exist()] if None in expect.statuses else []
    for status in sorted(statuses):
        condition = Subscription.status == status
        if status == consent.PAUSED and pause_clause:
            condition = condition & (
                Subscription.paused_until.does_not_exist() | (Subscription.paused_until < expect.pause_ends_before)
            )
        parts.append(condition)
    combined = parts[0]
    for part in parts[1:]:
        combined = combined | part
    return combined


def _condition(expect: consent.Expect):
    condition = _status_condition(expect)
    if expect.last_event is not None:
        condition = condition & (Subscription.last_event == expect.last_event)
    if expect.frequency is not ANY:
        held = expect.frequency
        condition = condition & (
            Subscription.frequency.does_not_exist() if held is None else Subscription.frequency == held
        )
    for attribute, value in (
        (Subscription.sunset_due, expect.sunset_due),
        (Subscription.sunset_state, expect.sunset_state),
    ):
        if value is not ANY:
            condition = condition & (attribute.does_not_exist() if value is None else attribute == value)
    if expect.reminded is not None:
        reminded = Subscription.reminder_sent_at
        condition = condition & (reminded.exists() if expect.reminded else reminded.does_not_exist())
    return condition


def _actions(subscriber_id: str, write: SubscriptionWrite, event_key: str) -> list:
    actions = [Subscription.last_event.set(event_key)]
    if None in write.expect.statuses:  # it may be created by this write
        actions.append(Subscription.list_id.set(write.list_id))
    if write.status == consent.UNSUBSCRIBED:
        actions += [
            Subscription.status.set(str(write.status)),
            Subscription.unsubscribed_at.set(write.at),
            Subscription.paused_until.remove(),
        ]
    elif write.status == consent.ACTIVE:
        actions += [
            Subscription.status.set(str(write.status)),
            Subscription.unsubscribed_at.remove(),
            Subscription.paused_until.remove(),
        ]
        if write.joined:
            actions += [Subscription.subscribed_at.set(write.at), Subscription.email.set(write.email)]
    elif write.status == consent.PAUSED:
        actions += [Subscription.status.set(str(write.status)), Subscription.paused_until.set(write.paused_until)]
    if write.frequency is not ANY:
        frequency = write.frequency
        actions.append(Subscription.frequency.set(frequency) if frequency else Subscription.frequency.remove())
    if write.sunset in (Sunset.LEAVE, Sunset.LEAVE_KEEPING_REMINDER):
        actions += leave_sunset(keep_reminder=write.sunset == Sunset.LEAVE_KEEPING_REMINDER)
    elif write.sunset == Sunset.RESTART:
        actions += restart_sunset(subscriber_id, write.sunset_due)
    return actions


def _profile_condition(write: ProfileWrite):
    parts = []
    if write.expect_opted_out is True:
        parts.append(Profile.opted_out_all == True)  # noqa: E712  (a DynamoDB condition, not a comparison)
    elif write.expect_opted_out is False:
        parts.append(Profile.opted_out_all.does_not_exist() | (Profile.opted_out_all == False))  # noqa: E712
    if write.expect_opted_out_event is not None:
        parts.append(Profile.opted_out_event == write.expect_opted_out_event)
    if write.expect_not_undone is not None:
        parts.append(Profile.undone.does_not_exist() | ~Profile.undone.contains(write.expect_not_undone))
    if write.expect_not_suppressed is not None:
        channel = write.expect_not_suppressed
        parts.append(Profile.suppressed_channels.does_not_exist() | ~Profile.suppressed_channels.contains(channel))
    if write.expect_suppressed is not None:
        parts.append(Profile.suppressed_channels.contains(write.expect_suppressed))
    if write.expect_keyword_before is not None:
        at = write.expect_keyword_before
        parts.append(Profile.sms_keyword_at.does_not_exist() | (Profile.sms_keyword_at < at))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part
    return combined


def _profile_actions(write: ProfileWrite) -> list:
    actions = []
    if write.opted_out_all is not None:
        actions.append(Profile.opted_out_all.set(write.opted_out_all))
    if write.opted_out_event is not None:
        actions.append(Profile.opted_out_event.set(write.opted_out_event))
    if write.opted_out_source is not None:
        actions.append(Profile.opted_out_source.set(write.opted_out_source))
    if write.add_undone is not None:
        actions.append(Profile.undone.add({write.add_undone}))
    if write.suppress is not None:
        actions.append(Profile.suppressed_channels.add({write.suppress}))
    if write.unsuppress is not None:
        actions.append(Profile.suppressed_channels.delete({write.unsuppress}))
    if write.keyword_at is not None:
        actions.append(Profile.sms_keyword_at.set(write.keyword_at))
    if write.email is not None:
        actions.append(Profile.email.set(write.email))
    if write.created_at is not None:
        actions.append(Profile.created_at.set(Profile.created_at | write.created_at))
    return actions


def _transaction(
    subscriber_id: str,
    plan: Plan,
    writes: list[SubscriptionWrite],
    first: bool,
    now: datetime,
    event: ConsentEvent | None,
):
    transaction = Transaction()
    if first and plan.list_must_exist is not None:
        transaction.check("list", MailingList, plan.list_must_exist, condition=MailingList.list_id.exists())
    if first and plan.profile is not None:
        transaction.update(
            "profile",
            Profile(subscriber_id, PROFILE),
            _profile_actions(plan.profile),
            condition=_profile_condition(plan.profile),
            keep_old=True,
        )
    if first and plan.event is not None:
        transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    counts = list(plan.counts) if first else []
    for write in writes:
        transaction.update(
            f"subscription:{write.list_id}",
            Subscription(subscriber_id, list_key(write.list_id)),
            actions=_actions(subscriber_id, write, plan.event_key),
            condition=_condition(write.expect),
            keep_old=True,
        )
        if write.members:
            transaction.update(
                f"members:{write.list_id}",
                members_counter(write.list_id, subscriber_id),
                [ListMembers.members.add(write.members)],
            )
        counts += write.counts
    if plan.count_scope is not None:
        count_in(transaction, plan.count_scope, subscriber_id, now, counts)
    return transaction


def commit_plan(
    subscriber_id: str, plan: Plan, now: datetime, also: Callable[[Transaction], object] | None = None
) -> Stale | None:
    """Write `plan`: None when all of it is written (or an earlier attempt of this very plan
    was: its event exists), `Stale` when a precondition no longer held. A plan over more than
    `LISTS_PER_TRANSACTION` lists is written in parts, the profile and the event with the first,
    so nothing can be sent in between. `also` adds a job's own items to the first part (the
    sunset brake's counters). Raises UnknownList when the list it needs is gone."""
    if not plan.applied and not plan.writes and plan.profile is None:
        return None
    event = consent_event(subscriber_id, plan.event) if plan.event is not None else None
    for number, part in enumerate(consent.chunks(plan.writes, LISTS_PER_TRANSACTION)):
        first = number == 0
        if not first and not part:
            continue
        transaction = _transaction(subscriber_id, plan, part, first, now, event)
        if first and also is not None:
            also(transaction)
        try:
            transaction.commit(request_token(event) if first and event is not None else None)
        except ConditionsFailed as failed:
            if "list" in failed:
                raise UnknownList(plan.list_must_exist or "") from failed
            if first and "event" in failed:
                continue  # our own event exists: an earlier attempt of this very plan landed
            return Stale(
                first,
                {
                    name.partition(":")[2]: _old_subscription(raw, name.partition(":")[2])
                    for name, raw in failed.failed.items()
                    if name.startswith("subscription:")
                },
                _old_profile(failed.failed["profile"]) if "profile" in failed else None,
                _old_number(failed.failed["profile"]) if "profile" in failed else None,
            )
    return None


def replanned(subscriber_id: str, plan: Plan, replan: Callable[[Stale], Plan], now: datetime, attempts: int) -> Plan:
    """Commit `plan`; when its preconditions no longer hold, plan again from what the items
    held (`replan`), until a plan is written or says there is nothing to do."""
    for _ in range(attempts):
        stale = consent_store().commit(subscriber_id, plan, now)
        if stale is None:
            return plan
        plan = replan(stale)
    raise ConcurrentChange(subscriber_id)


# One function per change: read what the planner needs (nothing, on the hot path), plan, commit.


@storage_errors
def unsubscribe(subscriber_id: str, list_id: str, ctx: AuditContext, now: datetime, attempts: int = 3) -> Change:
    """One round trip in the usual case: planned blind, the list check, the conditional status
    change, member counter, leaving counter and audit event go in one transaction. When the
    subscription was not receiving, the item as it was and the profile decide (already
    unsubscribed, left only by a stop-everything that may be undone, or never seen: a second
    round trip, and a third to write)."""
    plan = consent.plan_unsubscribe(UNKNOWN, list_id, ctx, now)

    def replan(stale: Stale) -> Plan:
        profile = consent_store().profile(subscriber_id)
        return consent.plan_unsubscribe(stale.subscriptions[list_id], list_id, ctx, now, profile)

    return Change.of(replanned(subscriber_id, plan, replan, now, attempts))


@storage_errors
def pause(subscriber_id: str, list_id: str, until: datetime, ctx: AuditContext, now: datetime) -> Change:
    """Pause a list until `until` (see `consent.plan_pause`), in one round trip."""
    plan = consent.plan_pause(UNKNOWN, list_id, until, ctx, now)

    def replan(stale: Stale) -> Plan:
        return consent.plan_pause(stale.subscriptions[list_id], list_id, until, ctx, now)

    return Change.of(replanned(subscriber_id, plan, replan, now, 3))


def read_everything_state(subscriber_id: str) -> tuple[ProfileState | None, list[SubscriptionState]]:
    """The profile and every subscription, as the planners of changes over every list read them."""
    return consent_store().everything(subscriber_id)


@storage_errors
def unsubscribe_all(
    subscriber_id: str,
    ctx: AuditContext,
    now: datetime,
    attempts: int = 5,
    planner: Callable[..., Plan] | None = None,
) -> Change:
    """Leave every list and opt out of future ones, as one consent event (see
    `consent.plan_unsubscribe_all`; `planner` is the door's own, e.g. `plan_complaint`). A
    change read between our read and our write makes us read again: nothing is done twice; a
    list that changed after the first part was written is finished under the same event."""

    def plan_from(continuing: str | None = None) -> Plan:
        profile, subscriptions = read_everything_state(subscriber_id)
        if planner is not None and continuing is None:
            return planner(profile, subscriptions, now)
        return consent.plan_unsubscribe_all(profile, subscriptions, ctx, now, continuing=continuing)

    plan = plan_from()
    first_written: Plan | None = None
    for _ in range(attempts):
        stale = consent_store().commit(subscriber_id, plan, now)
        if plan.applied and (stale is None or not stale.first):
            first_written = plan
        if stale is None:
            return Change.of(first_written or plan)
        plan = plan_from(first_written.event_key if first_written else None)
        if not plan.writes and not plan.applied:
            return Change.of(first_written or plan)
    if first_written is not None:
        return Change.of(first_written)  # everything stopped; a list changed since
    raise ConcurrentChange(subscriber_id)


@storage_errors
def undo(
    subscriber_id: str,
    list_id: str,
    undone_key: str,
    ctx: AuditContext,
    now: datetime,
    sunset_due: datetime,
    attempts: int = 3,
) -> Change:
    """Revert the change recorded by `undone_key` where it still holds (see `consent.plan_undo`).
    A list that changed after the first part was written keeps its later choice."""
    store = consent_store()
    original = store.event(subscriber_id, undone_key)
    for _ in range(attempts):
        profile, subscriptions = store.everything(subscriber_id)
        plan = consent.plan_undo(original, list_id, subscriptions, profile, ctx, now, sunset_due)
        stale = store.commit(subscriber_id, plan, now)
        if stale is None or not stale.first:
            return Change.of(plan)
        if stale.profile is not None:
            return Change(False, None, outcome=consent.Outcome.NOTHING_TO_UNDO)  # undone already
    raise ConcurrentChange(subscriber_id)


@storage_errors
def subscribe(
    subscriber_id: str,
    email: str,
    list_id: str,
    ctx: AuditContext,
    now: datetime,
    sunset_due: datetime,
    resubscribe: bool = False,
) -> str:
    """Add a subscriber to a list, next due for the sunset job on `sunset_due` (see
    `consent.plan_subscribe`). Returns the outcome: subscribed, resubscribed, already_subscribed
    or previously_unsubscribed."""
    plan = consent.plan_subscribe(UNKNOWN, list_id, email, ctx, now, sunset_due, resubscribe)

    def replan(stale: Stale) -> Plan:
        # Only the items whose condition failed come back: the others are as the plan expected.
        return consent.plan_subscribe(
            stale.subscriptions.get(list_id, UNKNOWN),
            list_id,
            email,
            ctx,
            now,
            sunset_due,
            resubscribe,
            profile=stale.profile or UNKNOWN,
        )

    return replanned(subscriber_id, plan, replan, now, 3).outcome


@storage_errors
def suppress_channel(subscriber_id: str, channel: str, ctx: AuditContext, now: datetime) -> bool:
    """Stop sending on this channel (a permanent bounce), recorded once in the audit trail."""
    plan = consent.plan_suppress_channel(UNKNOWN, channel, ctx, now)

    def replan(stale: Stale) -> Plan:
        return consent.plan_suppress_channel(stale.profile, channel, ctx, now)

    return replanned(subscriber_id, plan, replan, now, 3).applied


@storage_errors
def record_survey(subscriber_id: str, list_id: str, key: str, reason: str, comment: str | None, now: datetime) -> bool:
    """Attach the exit survey to the event it explains (answered once, never overwritten) and
    count the reason for the list's monthly report, in one transaction."""
    transaction = Transaction().update(
        "event",
        ConsentEvent(subscriber_id, key),
        actions=[ConsentEvent.reason.set(reason), ConsentEvent.comment.set(comment)],
        condition=ConsentEvent.sk.exists()
        & ConsentEvent.list_id.is_in(list_id, consent.EVERY_LIST)
        & ConsentEvent.action.is_in(*map(str, consent.UNDO_ACTION))
        & ConsentEvent.reason.does_not_exist(),
    )
    transaction.update(
        "counts", ReasonCounts(f"REASONS#{list_id}", f"{now:%Y-%m}"), [getattr(ReasonCounts, reason).add(1)]
    )
    return transaction.commit_unless("event")
