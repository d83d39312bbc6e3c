"""Less often instead of leaving: the frequency a subscriber chose for a list, stored on the
subscription with its consent event and its counter in one transaction, and its undo."""

from __future__ import annotations

from datetime import datetime

from chalicelib.core import consent
from chalicelib.storage.subscribers.changes import Change, ConcurrentChange
from chalicelib.storage.subscribers.counters import count_in
from chalicelib.storage.subscribers.models import (
    AuditContext,
    ConsentEvent,
    Subscription,
    list_key,
    new_event,
    request_token,
)
from chalicelib.storage.subscribers.reads import get_event, get_subscription
from chalicelib.storage.transactions import ConditionsFailed, Transaction

FREQUENCY = "frequency"


def _frequency_is(value: str | None):
    return Subscription.frequency.does_not_exist() if value is None else Subscription.frequency == value


def _change(subscriber_id: str, list_id: str, event: ConsentEvent, before: str | None, counter: str, also=None):
    """One transaction: the subscription's frequency (conditional), the event and the counter."""
    after = event.frequency
    condition = Subscription.status.is_in(consent.ACTIVE, consent.PAUSED) & _frequency_is(before)
    transaction = Transaction().update(
        "subscription",
        Subscription(subscriber_id, list_key(list_id)),
        actions=[
            Subscription.frequency.set(after) if after is not None else Subscription.frequency.remove(),
            Subscription.last_event.set(event.sk),
        ],
        condition=condition if also is None else condition & also,
    )
    count_in(transaction, list_id, subscriber_id, event.at, [counter])
    transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    transaction.commit(request_token(event))


def set_frequency(
    subscriber_id: str, list_id: str, frequency: str, ctx: AuditContext, now: datetime, attempts: int = 3
):
    """Receive `list_id` at `frequency` from now on. Only an active or paused subscription
    changes (choosing a frequency never brings back someone who left); choosing the frequency
    already held records nothing. Returns a `Change` (status None: not subscribed at all)."""
    for _ in range(attempts):
        subscription = get_subscription(subscriber_id, list_id)
        if subscription is None or subscription.status not in (consent.ACTIVE, consent.PAUSED):
            return Change(False, None, subscription.status if subscription else None)
        if subscription.frequency == frequency:
            return Change(False, subscription.last_event, subscription.status)
        event = new_event(subscriber_id, FREQUENCY, list_id, ctx, now)
        event.frequency, event.frequency_before = frequency, subscription.frequency
        try:
            _change(subscriber_id, list_id, event, subscription.frequency, f"frequency#{frequency}")
        except ConditionsFailed as failed:
            if "event" in failed:  # an earlier attempt of this very change landed
                return Change(True, event.sk, subscription.status)
            if "subscription" not in failed:
                raise
            continue  # changed between our read and write: read again
        return Change(True, event.sk, subscription.status)
    raise ConcurrentChange(subscriber_id)


def undo_frequency(subscriber_id: str, list_id: str, undone_key: str, ctx: AuditContext, now: datetime):
    """Go back to the frequency held before the choice `undone_key`, only while that choice is
    still the list's latest change (a later choice is never overridden; a second undo changes
    nothing). Recorded as a `frequency` event naming the frequency restored."""
    original = get_event(subscriber_id, undone_key)
    if original is None or original.action != FREQUENCY or original.list_id != list_id:
        return Change(False, None)
    event = new_event(subscriber_id, FREQUENCY, list_id, ctx, now)
    event.frequency, event.frequency_before = original.frequency_before, original.frequency
    try:
        _change(
            subscriber_id,
            list_id,
            event,
            original.frequency,
            f"frequency_undone#{original.frequency}",
            Subscription.last_event == undone_key,
        )
    except ConditionsFailed as failed:
        if "subscription" in failed:
            return Change(False, None)
        if "event" not in failed:
            raise
    return Change(True, event.sk, consent.ACTIVE)
