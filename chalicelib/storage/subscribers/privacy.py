"""Erasure: forget the person, keep the choice."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import consent
from chalicelib.storage.store import consent_store
from chalicelib.storage.subscribers.changes import storage_errors, unsubscribe_all
from chalicelib.storage.subscribers.models import PROFILE, AuditContext, ConsentEvent, Profile, Subscription
from chalicelib.storage.subscribers.reads import everything_about


@storage_errors
def erase(subscriber_id: str, now: datetime) -> dict:
    """The address, engagement history and audit trail go; what stays is the opaque id (an HMAC
    of the address) marked opted out of everything, with each list unsubscribed, so a later
    import of the same address cannot bring them back. Idempotent: running it again finishes an
    erasure that stopped half-way."""
    # First leave every list and refuse future ones (`consent.plan_erase`), which also keeps the
    # member counts right; then forget everything but that choice.
    unsubscribe_all(subscriber_id, AuditContext(consent.Source.ERASURE), now, planner=consent.plan_erase)
    return consent_store().forget(subscriber_id, now)


@storage_errors
def forget_in_table(subscriber_id: str, now: datetime) -> dict:
    """Rewrite the profile and the subscriptions with nothing but the opt-out; delete the trail."""
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
                    status=str(consent.UNSUBSCRIBED),
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
