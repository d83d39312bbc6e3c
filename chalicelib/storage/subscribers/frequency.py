"""Less often instead of leaving: the frequency a subscriber chose for a list, stored on the
subscription with its consent event and its counter in one transaction, and its undo. The
planners (`consent.plan_frequency`, `consent.plan_undo_frequency`) decide; this commits."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import consent
from chalicelib.domain.consent import Plan
from chalicelib.storage.store import Stale, consent_store
from chalicelib.storage.subscribers.changes import Change, replanned, storage_errors
from chalicelib.storage.subscribers.models import AuditContext


@storage_errors
def set_frequency(
    subscriber_id: str, list_id: str, frequency: str, ctx: AuditContext, now: datetime, attempts: int = 3
) -> Change:
    """Receive `list_id` at `frequency` from now on (see `consent.plan_frequency`)."""

    def read_and_plan(_stale: Stale | None = None) -> Plan:
        state = consent_store().subscription(subscriber_id, list_id)
        return consent.plan_frequency(state, list_id, frequency, ctx, now)

    return Change.of(replanned(subscriber_id, read_and_plan(), read_and_plan, now, attempts))


@storage_errors
def undo_frequency(subscriber_id: str, list_id: str, undone_key: str, ctx: AuditContext, now: datetime) -> Change:
    """Go back to the frequency held before `undone_key` (see `consent.plan_undo_frequency`)."""
    store = consent_store()
    plan = consent.plan_undo_frequency(store.event(subscriber_id, undone_key), list_id, ctx, now)
    if store.commit(subscriber_id, plan, now) is not None:
        return Change(False, None, outcome=consent.Outcome.NOTHING_TO_UNDO)  # a later choice holds
    return Change.of(plan)
