"""Reading a subscriber's partition and the per-list counters."""

from __future__ import annotations

from chalicelib.storage.subscribers.models import (
    PROFILE,
    ConsentEvent,
    ListMembers,
    Profile,
    ReasonCounts,
    Subscription,
    list_key,
)
from chalicelib.storage.transactions import get_or_none, storage_errors


def get_profile(subscriber_id: str) -> Profile | None:
    return get_or_none(Profile, subscriber_id, PROFILE)


def get_subscription(subscriber_id: str, list_id: str) -> Subscription | None:
    return get_or_none(Subscription, subscriber_id, list_key(list_id))


def get_event(subscriber_id: str, key: str) -> ConsentEvent | None:
    if not isinstance(key, str) or not key.startswith("EVENT#"):
        return None
    return get_or_none(ConsentEvent, subscriber_id, key)


@storage_errors
def subscriptions_of(subscriber_id: str) -> list[Subscription]:
    return list(Subscription.query(subscriber_id, Subscription.sk.startswith("LIST#")))


@storage_errors
def consent_events(subscriber_id: str) -> list[ConsentEvent]:
    """Read whole here: a lazy query would fail above storage, where it is iterated."""
    return list(ConsentEvent.query(subscriber_id, ConsentEvent.sk.startswith("EVENT#")))


def everything_about(subscriber_id: str) -> tuple[Profile | None, list[Subscription], list[ConsentEvent]]:
    return get_profile(subscriber_id), subscriptions_of(subscriber_id), list(consent_events(subscriber_id))


@storage_errors
def permission_records(list_id: str, subscriber_ids: list[str]) -> tuple[dict[str, Subscription], dict[str, Profile]]:
    """Two batched reads (≤ 100 keys each): the subscriptions to the list and the profiles."""
    subscriptions = {s.pk: s for s in Subscription.batch_get([(sid, list_key(list_id)) for sid in subscriber_ids])}
    profiles = {p.pk: p for p in Profile.batch_get([(sid, PROFILE) for sid in subscriber_ids])}
    return subscriptions, profiles


@storage_errors
def members_of(list_id: str) -> int:
    return sum(
        int(c.members or 0) for c in ListMembers.query(f"MEMBERS#{list_id}", ListMembers.sk.startswith("SHARD#"))
    )


@storage_errors
def reason_counts(list_id: str, first_month: str, last_month: str) -> list[ReasonCounts]:
    return list(ReasonCounts.query(f"REASONS#{list_id}", ReasonCounts.sk.between(first_month, last_month)))
