"""The sunset job's reads and conditional transitions. The job only acts on what it read: any
engagement or choice since moves `sunset_due` or the state, and the write fails."""

from __future__ import annotations

import operator
from datetime import datetime
from functools import reduce

from chalicelib.domain import consent, sunset
from chalicelib.storage.subscribers.changes import Change, commit_plan, storage_errors, subscription_state, unsubscribe
from chalicelib.storage.subscribers.models import (
    AuditContext,
    Subscription,
    due_key,
    due_partition,
    list_key,
)
from chalicelib.storage.subscribers.reads import subscriptions_of
from chalicelib.storage.transactions import Transaction, written


@storage_errors
def due_page(
    day: str, shard: int, last_key: dict | None, page_size: int = 200
) -> tuple[list[Subscription], dict | None]:
    """One page of the sparse index partition of `day` (YYYY-MM-DD) and `shard`."""
    results = Subscription.sunset_index.query(
        due_partition(day, shard), limit=page_size, last_evaluated_key=last_key, page_size=page_size
    )
    items = list(results)
    return items, results.last_evaluated_key


def clock_of(candidate: Subscription) -> sunset.Clock:
    """What the job read of a subscription's clock."""
    state = sunset.SunsetState(candidate.sunset_state) if candidate.sunset_state else None
    return sunset.Clock(candidate.pk, candidate.list_id, candidate.sunset_due, state)


def _condition(expect: sunset.ClockExpect, clock: sunset.Clock):
    conditions = []
    if expect.as_read:
        conditions.append(Subscription.sunset_due == clock.due)
        conditions.append(_state_is(clock.state))
    if expect.active:
        conditions.append(Subscription.status == consent.ACTIVE)
    if expect.state is not sunset.KEEP:
        conditions.append(_state_is(expect.state))
    if expect.not_reminded:
        conditions.append(Subscription.reminder_sent_at.does_not_exist())
    if expect.pending_since_before is not None:
        conditions.append(
            Subscription.pending_since.does_not_exist() | (Subscription.pending_since < expect.pending_since_before)
        )
    return reduce(operator.and_, conditions)


def _state_is(state: sunset.SunsetState | None):
    return Subscription.sunset_state.does_not_exist() if state is None else Subscription.sunset_state == state


def _actions(write: sunset.ClockWrite, subscriber_id: str) -> list:
    actions = []
    for attribute, value in (
        (Subscription.sunset_state, write.state),
        (Subscription.pending_since, write.pending_since),
        (Subscription.reminder_sent_at, write.reminder_sent_at),
    ):
        if value is not sunset.KEEP:
            actions.append(attribute.remove() if value is sunset.REMOVE else attribute.set(value))
    if write.due is not sunset.KEEP:
        actions.append(Subscription.sunset_due.set(due_key(write.due, subscriber_id)))
    return actions


def _brake_count(clock: sunset.Clock, brake: sunset.BrakeCount):
    from chalicelib.storage.sunset_runs import count_acted  # sunset_runs imports our models

    def add(transaction: Transaction) -> None:
        count_acted(transaction, clock.list_id, brake.day, clock.subscriber_id, brake.kind, brake.reminded_on)

    return add


def commit_clock(plan: sunset.ClockPlan) -> bool:
    """Write a clock step: False when a precondition no longer held. A step that moves a brake
    counter moves it in the same transaction."""
    clock = plan.clock
    item = Subscription(clock.subscriber_id, list_key(clock.list_id))
    actions, condition = _actions(plan.write, clock.subscriber_id), _condition(plan.expect, clock)
    if plan.brake is None:
        return written(lambda: item.update(actions=actions, condition=condition))
    transaction = Transaction().update("subscription", item, actions=actions, condition=condition)
    _brake_count(clock, plan.brake)(transaction)
    return transaction.commit_unless("subscription")


@storage_errors
def commit_sunset_unsubscribe(subscriber_id: str, list_id: str, plan: sunset.UnsubscribePlan, now: datetime) -> bool:
    """Write the final step: the consent plan and its brake counter in one transaction; False
    when the plan changes nothing or a precondition no longer held."""
    count = _brake_count(sunset.Clock(subscriber_id, list_id, None), plan.brake)
    return plan.consent.applied and commit_plan(subscriber_id, plan.consent, now, also=count) is None


def reschedule(candidate: Subscription, when: datetime) -> bool:
    return commit_clock(sunset.plan_reschedule(clock_of(candidate), when))


def mark_pending(candidate: Subscription, now: datetime, stale_before: datetime) -> bool:
    """Step 1, before the email goes out (`domain.sunset.plan_mark_pending`)."""
    return commit_clock(sunset.plan_mark_pending(clock_of(candidate), now, stale_before))


def mark_reminded(
    candidate: Subscription, now: datetime, unsubscribe_on: datetime, day: datetime | None = None
) -> bool:
    """The email went out (`domain.sunset.plan_mark_reminded`); `day`: the run's (default: `now`'s)."""
    return commit_clock(sunset.plan_mark_reminded(clock_of(candidate), now, unsubscribe_on, day or now))


def release_pending(candidate: Subscription, retry_on: datetime) -> bool:
    """The email could not be sent (`domain.sunset.plan_release_pending`)."""
    return commit_clock(sunset.plan_release_pending(clock_of(candidate), retry_on))


def sunset_unsubscribe(
    candidate: Subscription, now: datetime, day: datetime | None = None, reminded_on: datetime | None = None
) -> bool:
    """Step 2 (`domain.sunset.plan_final_unsubscribe`): counted for the brake on the run's `day`
    (default: `now`'s), by the day of the reminder (`reminded_on`, None: unknown)."""
    plan = sunset.plan_final_unsubscribe(subscription_state(candidate, candidate.list_id), now, day or now, reminded_on)
    return commit_sunset_unsubscribe(candidate.pk, candidate.list_id, plan, now)


def reminded_together(subscriber_id: str, list_id: str) -> list[Subscription]:
    """The subscriber's other subscriptions that the re-permission email about `list_id` named:
    the job marks every list of one email with the same `reminder_sent_at` (kept on those it
    unsubscribed since). Empty when `list_id` awaits no answer. One query."""
    held = subscriptions_of(subscriber_id)
    asked = next((s.reminder_sent_at for s in held if s.list_id == list_id), None)
    if asked is None:
        return []
    return [s for s in held if s.list_id != list_id and s.reminder_sent_at == asked]


@storage_errors
def unsubscribe_reminded(subscriber_id: str, list_id: str, ctx: AuditContext, now: datetime) -> Change:
    """A one-click from a re-permission email: leave `list_id` and every other list that email
    named (still awaiting an answer), each an ordinary unsubscribe (one transaction and one
    event per list); the answer is the link's list's. One query more than an unsubscribe."""
    others = [s.list_id for s in reminded_together(subscriber_id, list_id) if s.status != consent.UNSUBSCRIBED]
    change = unsubscribe(subscriber_id, list_id, ctx, now)
    for other in others:
        unsubscribe(subscriber_id, other, ctx, now)
    return change
