"""The sunset job's reads and conditional transitions. The job only acts on what it read: any
engagement or choice since moves `sunset_due` or the state, and the write fails."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import consent
from chalicelib.storage.subscribers.changes import Change, commit_plan, storage_errors, subscription_state, unsubscribe
from chalicelib.storage.subscribers.models import (
    AuditContext,
    Subscription,
    due_key,
    due_partition,
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


def _unchanged_since_read(candidate: Subscription):
    condition = Subscription.sunset_due == candidate.sunset_due
    if candidate.sunset_state is None:
        return condition & Subscription.sunset_state.does_not_exist()
    return condition & (Subscription.sunset_state == candidate.sunset_state)


def _conditional_update(subscription: Subscription, actions: list, condition) -> bool:
    return written(lambda: Subscription(subscription.pk, subscription.sk).update(actions=actions, condition=condition))


def reschedule(candidate: Subscription, when: datetime) -> bool:
    return _conditional_update(
        candidate, [Subscription.sunset_due.set(due_key(when, candidate.pk))], _unchanged_since_read(candidate)
    )


def mark_pending(candidate: Subscription, now: datetime, stale_before: datetime) -> bool:
    """Step 1, before the email goes out: a second run (or an overlapping one) finds it taken.
    A subscription read as pending but never reminded is taken over only when it was marked
    before `stale_before` (its worker stopped before sending; one marked since may be sending
    right now)."""
    actions = [Subscription.sunset_state.set("pending"), Subscription.pending_since.set(now)]
    condition = _unchanged_since_read(candidate) & (Subscription.status == consent.ACTIVE)
    if candidate.sunset_state == "pending":  # recovering a run that stopped before sending
        actions = [Subscription.pending_since.set(now)]
        condition = (
            condition
            & Subscription.reminder_sent_at.does_not_exist()
            & (Subscription.pending_since.does_not_exist() | (Subscription.pending_since < stale_before))
        )
    return _conditional_update(candidate, actions, condition)


def mark_reminded(
    candidate: Subscription, now: datetime, unsubscribe_on: datetime, day: datetime | None = None
) -> bool:
    """The email went out: the grace period runs until `unsubscribe_on`. Counted for the brake
    as reminded on the run's `day` (default: the day of `now`) in the same transaction."""
    from chalicelib.storage.sunset_runs import count_acted  # sunset_runs imports our models

    transaction = Transaction().update(
        "subscription",
        Subscription(candidate.pk, candidate.sk),
        actions=[
            Subscription.reminder_sent_at.set(now),
            Subscription.sunset_due.set(due_key(unsubscribe_on, candidate.pk)),
        ],
        condition=(Subscription.sunset_state == "pending") & Subscription.reminder_sent_at.does_not_exist(),
    )
    count_acted(transaction, candidate.list_id, day or now, candidate.pk, "reminded")
    return transaction.commit_unless("subscription")


def release_pending(candidate: Subscription, retry_on: datetime) -> bool:
    """The email could not be sent: back to active, to be tried again on `retry_on`."""
    return _conditional_update(
        candidate,
        [
            Subscription.sunset_state.remove(),
            Subscription.pending_since.remove(),
            Subscription.sunset_due.set(due_key(retry_on, candidate.pk)),
        ],
        (Subscription.sunset_state == "pending") & Subscription.reminder_sent_at.does_not_exist(),
    )


@storage_errors
def sunset_unsubscribe(
    candidate: Subscription, now: datetime, day: datetime | None = None, reminded_on: datetime | None = None
) -> bool:
    """Step 2: still no engagement after the grace period (see `consent.plan_sunset_unsubscribe`:
    only what the job read, source "sunset", the reminder's time kept). Counted for the brake as
    unsubscribed on the run's `day` (default: the day of `now`), by the day of the reminder
    (`reminded_on`, None: unknown), in the same transaction."""
    from chalicelib.storage.sunset_runs import count_acted  # sunset_runs imports our models

    plan = consent.plan_sunset_unsubscribe(subscription_state(candidate, candidate.list_id), now)

    def brake_count(transaction: Transaction) -> None:
        count_acted(transaction, candidate.list_id, day or now, candidate.pk, "unsubscribed", reminded_on)

    return plan.applied and commit_plan(candidate.pk, plan, now, also=brake_count) is None


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
