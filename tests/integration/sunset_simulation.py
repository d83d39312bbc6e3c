"""A clock-driven simulation of the sunset job for the multi-day tests: every phase and every
worker runs at its own time, between joins, engagement and clicks, as in Lambda (the daily plan
at 03:00, scan workers spread over the morning, act workers hours after the last scan)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from chalicelib.core import ids
from chalicelib.storage import lists, store
from chalicelib.storage.memory import MemorySunsetStore
from chalicelib.sunset import job as sunset_job
from chalicelib.sunset import policy as sunset_policy


def use_fewer_shards(monkeypatch, shards: int = 4) -> None:
    """Fewer queue messages per run than the real 16: the same code, a faster test. Call it
    before any subscriber is written: keys, counters and the plan all use the same count."""
    monkeypatch.setattr(ids, "SHARDS", shards)
    monkeypatch.setattr(sunset_policy, "SHARDS", shards)


@contextmanager
def on_memory() -> Iterator[MemorySunsetStore]:
    """The job and every consent change on the in-memory store (tests/contract shows it keeps
    DynamoDB's promises); lists and their policies stay in the lists table (moto)."""
    memory = MemorySunsetStore()
    with store.use(consent=memory.consent, sunset=memory):
        yield memory


def create_list(list_id: str, name: str, sunset: dict | None = None) -> None:
    """The list and its policy in the lists table; a memory consent store learns of it too."""
    lists.create_list(list_id, name, sunset=sunset)
    if isinstance(store.sunset_store(), MemorySunsetStore):
        store.consent_store().add_list(list_id, name)


class Outbox:
    """The re-permission emails, each with the clock of the worker that sent it."""

    def __init__(self, clock: Simulation):
        self.clock = clock
        self.sent: list[tuple[datetime, dict]] = []

    def __call__(self, record: dict) -> None:
        self.sent.append((self.clock.now, record))


class Simulation:
    """Events in time order: anything the test schedules, and the job's queue messages."""

    def __init__(self, start: datetime, scan_delay: Callable, act_delay: Callable):
        self.now = start
        self.outbox = Outbox(self)
        self.run_ids: list[str] = []
        self._events: list = []
        self._order = itertools.count()
        self.scan_delay, self.act_delay = scan_delay, act_delay

    def at(self, when: datetime, action: Callable[[], object]) -> None:
        heapq.heappush(self._events, (when, next(self._order), action))

    def daily_runs(self, first_day: datetime, days: int, hour: int = 3) -> None:
        for n in range(days):
            self.at(first_day + timedelta(days=n, hours=hour), self._plan)

    def _plan(self) -> None:
        self.run_ids.append(sunset_job.plan_run(self._enqueue, self.now))

    def _enqueue(self, messages: list[dict]) -> None:
        for message in messages:
            if "day" in message or "person" in message:  # a continuation: the next worker soon after
                delay = timedelta(minutes=1)
            elif message["phase"] == "scan":
                delay = self.scan_delay(self.now, message["shard"])
            else:
                delay = self.act_delay(self.now, message["shard"])
            self.at(self.now + delay, lambda m=message: self._work(m))

    def _work(self, message: dict) -> None:
        sunset_job.work(message, self._enqueue, lambda: 900_000, self.outbox, self.now)

    def run_until(self, end: datetime) -> None:
        while self._events and self._events[0][0] <= end:
            self.now, _, action = heapq.heappop(self._events)
            action()
