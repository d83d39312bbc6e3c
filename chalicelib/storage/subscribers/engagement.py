"""Engagement facts on a subscription: sends counted once per message, engagement that only
moves forward, bounces."""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain import consent
from chalicelib.storage.store import consent_store
from chalicelib.storage.subscribers.models import PROFILE, Profile, SendMark, Subscription, list_key, restart_sunset
from chalicelib.storage.transactions import ConditionsFailed, Transaction, storage_errors, written

SEND_MARK_RETENTION = timedelta(days=30)


def record_engagement(subscriber_id: str, list_id: str, at: datetime, sunset_due: datetime) -> bool:
    """Move `last_engaged_at` forward (see `engage_in_table`), in the selected consent store."""
    return consent_store().record_engagement(subscriber_id, list_id, at, sunset_due)


def engage_in_table(subscriber_id: str, list_id: str, at: datetime, sunset_due: datetime) -> bool:
    """Move `last_engaged_at` forward only (events arrive late and twice), restart the sunset
    clock (next due on `sunset_due`) and end a pending re-permission. False when nothing moved."""
    return written(
        lambda: Subscription(subscriber_id, list_key(list_id)).update(
            actions=[Subscription.last_engaged_at.set(at), *restart_sunset(subscriber_id, sunset_due)],
            condition=Subscription.status.is_in(consent.ACTIVE, consent.PAUSED)
            & (Subscription.last_engaged_at.does_not_exist() | (Subscription.last_engaged_at < at)),
        )
    )


def count_send(subscriber_id: str, list_id: str, message_id: str, now: datetime) -> str:
    """One more email received since the last engagement, once per message: counted,
    duplicate or not_subscribed."""
    transaction = Transaction().put(
        "mark",
        SendMark(f"MSG#{message_id}", "SENT", ttl=now + SEND_MARK_RETENTION),
        condition=SendMark.pk.does_not_exist(),
    )
    transaction.update(
        "subscription",
        Subscription(subscriber_id, list_key(list_id)),
        actions=[Subscription.sends_since_engaged.add(1)],
        condition=Subscription.status.is_in(consent.ACTIVE, consent.PAUSED),
    )
    try:
        transaction.commit()
    except ConditionsFailed as failed:
        return "duplicate" if "mark" in failed else "not_subscribed"
    return "counted"


@storage_errors
def count_transient_bounce(subscriber_id: str) -> None:
    Profile(subscriber_id, PROFILE).update(actions=[Profile.transient_bounces.add(1)])
