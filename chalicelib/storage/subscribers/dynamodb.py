"""The consent store on DynamoDB (`store.ConsentStore`): today's reads and `commit_plan`, each
failure of the table turned into `Unavailable`. The default store; registered on import."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.consent import EventState, Plan, ProfileState, SubscriptionState
from chalicelib.storage import lists
from chalicelib.storage.store import Recorded, Stale, register_defaults
from chalicelib.storage.subscribers import counters, privacy, reads
from chalicelib.storage.subscribers.changes import commit_plan, event_state, profile_state, subscription_state
from chalicelib.storage.subscribers.engagement import engage_in_table
from chalicelib.storage.transactions import storage_errors


class DynamoConsentStore:
    @storage_errors
    def add_list(self, list_id: str, name: str) -> None:
        lists.create_list(list_id, name)

    @storage_errors
    def subscription(self, subscriber_id: str, list_id: str) -> SubscriptionState:
        return subscription_state(reads.get_subscription(subscriber_id, list_id), list_id)

    @storage_errors
    def profile(self, subscriber_id: str) -> ProfileState | None:
        return profile_state(reads.get_profile(subscriber_id))

    @storage_errors
    def everything(self, subscriber_id: str) -> tuple[ProfileState | None, list[SubscriptionState]]:
        return profile_state(reads.get_profile(subscriber_id)), [
            subscription_state(s, s.list_id) for s in reads.subscriptions_of(subscriber_id)
        ]

    @storage_errors
    def event(self, subscriber_id: str, key: str) -> EventState | None:
        return event_state(reads.get_event(subscriber_id, key))

    @storage_errors
    def trail(self, subscriber_id: str) -> list[Recorded]:
        return [Recorded(e.sk, e.action, e.list_id, e.source, e.at) for e in reads.consent_events(subscriber_id)]

    @storage_errors
    def commit(self, subscriber_id: str, plan: Plan, now: datetime) -> Stale | None:
        return commit_plan(subscriber_id, plan, now)

    @storage_errors
    def record_engagement(self, subscriber_id: str, list_id: str, at: datetime, sunset_due: datetime) -> bool:
        return engage_in_table(subscriber_id, list_id, at, sunset_due)

    @storage_errors
    def members(self, list_id: str) -> int:
        return reads.members_of(list_id)

    @storage_errors
    def leaving_counts(self, list_id: str, first_month: str, last_month: str) -> dict[str, dict[str, int]]:
        return counters.leaving_counts(list_id, first_month, last_month)

    def forget(self, subscriber_id: str, now: datetime) -> dict:
        return privacy.forget_in_table(subscriber_id, now)


DYNAMODB = DynamoConsentStore()
register_defaults(consent=DYNAMODB)
