"""The sunset job's reads and conditional transitions. The job only acts on what it read: any
engagement or choice since moves `sunset_due` or the state, and the write fails."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import consent
from chalicelib.storage.subscribers.counters import count_in
from chalicelib.storage.subscribers.models import (
    AuditContext,
    ConsentEvent,
    ListMembers,
    Subscription,
    due_key,
    due_partition,
    leave_sunset,
    members_counter,
    new_event,
)
from chalicelib.storage.transactions import Transaction, written


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


def mark_reminded(candidate: Subscription, now: datetime, unsubscribe_on: datetime) -> bool:
    return _conditional_update(
        candidate,
        [Subscription.reminder_sent_at.set(now), Subscription.sunset_due.set(due_key(unsubscribe_on, candidate.pk))],
        (Subscription.sunset_state == "pending") & Subscription.reminder_sent_at.does_not_exist(),
    )


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


def sunset_unsubscribe(candidate: Subscription, now: datetime) -> bool:
    """Step 2: still no engagement after the grace period. Source "sunset" in the audit trail,
    distinct from a person's own choice; a later subscribe brings them back."""
    event = new_event(candidate.pk, "unsubscribe", candidate.list_id, AuditContext("sunset"), now)
    transaction = Transaction().update(
        "subscription",
        Subscription(candidate.pk, candidate.sk),
        actions=[
            Subscription.status.set(consent.UNSUBSCRIBED),
            Subscription.unsubscribed_at.set(now),
            Subscription.last_event.set(event.sk),
            *leave_sunset(),
        ],
        condition=_unchanged_since_read(candidate)
        & (Subscription.sunset_state == "pending")
        & Subscription.reminder_sent_at.exists()
        & (Subscription.status == consent.ACTIVE),
    )
    transaction.update("members", members_counter(candidate.list_id, candidate.pk), [ListMembers.members.add(-1)])
    count_in(transaction, candidate.list_id, candidate.pk, now, ["unsubscribe#sunset"])
    transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    return transaction.commit_unless("subscription")
