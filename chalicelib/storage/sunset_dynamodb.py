"""The sunset job's storage on DynamoDB (`store.SunsetStore`): the runs, chunks, cursor and brake
counters of `sunset_runs`, the subscriptions' reads and conditional steps of `subscribers.sunset`,
each item read turned into the store's values. The default sunset store; registered on import."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.sunset import ClockPlan, UnsubscribePlan
from chalicelib.storage import sunset_runs
from chalicelib.storage.store import DueSubscription, register_defaults
from chalicelib.storage.subscribers import engagement, sunset


class DynamoSunsetStore:
    """The sunset job's storage on the subscribers table (`store.SunsetStore`)."""

    create_run = staticmethod(sunset_runs.create_run)
    get_run = staticmethod(sunset_runs.get_run)
    recent_runs = staticmethod(sunset_runs.recent_runs)
    add_outcomes = staticmethod(sunset_runs.add_outcomes)
    add_list_counts = staticmethod(sunset_runs.add_list_counts)
    list_counts = staticmethod(sunset_runs.list_counts)
    finish_phase = staticmethod(sunset_runs.finish_phase)
    update_run = staticmethod(sunset_runs.update_run)
    add_left_days = staticmethod(sunset_runs.add_left_days)
    save_chunk = staticmethod(sunset_runs.save_chunk)
    chunks = staticmethod(sunset_runs.chunks)
    delete_chunk = staticmethod(sunset_runs.delete_chunk)
    acted_between = staticmethod(sunset_runs.acted_between)
    get_cursor = staticmethod(sunset_runs.get_cursor)
    set_cursor = staticmethod(sunset_runs.set_cursor)

    def due_page(
        self, day: str, shard: int, last_key: dict | None, page_size: int = 200
    ) -> tuple[list[DueSubscription], dict | None]:
        items, last_key = sunset.due_page(day, shard, last_key, page_size)
        return [DueSubscription.of(item.pk, item) for item in items], last_key

    def commit_clock(self, plan: ClockPlan) -> bool:
        return sunset.commit_clock(plan)

    def commit_sunset_unsubscribe(self, subscriber_id: str, list_id: str, plan: UnsubscribePlan, now: datetime) -> bool:
        return sunset.commit_sunset_unsubscribe(subscriber_id, list_id, plan, now)

    def count_send(self, subscriber_id: str, list_id: str, message_id: str, now: datetime) -> str:
        return engagement.count_send(subscriber_id, list_id, message_id, now)


DYNAMODB = DynamoSunsetStore()
register_defaults(sunset=DYNAMODB)
