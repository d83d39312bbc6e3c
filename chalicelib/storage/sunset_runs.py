"""Sunset job runs, in the subscribers table: the run report (`SUNSET#RUNS` / run id), per-list
counts of each run (`SUNSET#RUN#<id>` / `LIST#<list>`), and each shard's candidates between
the scan and the act phase (`SUNSET#RUN#<id>` / `CAND#<shard>#<chunk>`, expiring in two days,
deleted once acted on)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.storage.subscribers.models import SubscriberPartition
from chalicelib.storage.transactions import get_or_none

RUNS = "SUNSET#RUNS"
CURSOR = "SUNSET#CURSOR"
CHUNK_RETENTION = timedelta(days=2)
OUTCOMES = ("found", "emailed", "unsubscribed", "rescheduled", "kept", "changed_since_read", "email_failed", "braked")


class Run(SubscriberPartition):
    status = UnicodeAttribute()  # scanning | acting | done
    dry_run = UnicodeAttribute()  # "yes" | "no"
    days = JSONAttribute()
    shards = NumberAttribute()
    started_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    shards_scanned = NumberAttribute(null=True)
    shards_acted = NumberAttribute(null=True)
    braked_lists = UnicodeSetAttribute(null=True)
    left_days = UnicodeSetAttribute(null=True)  # due days that still hold items after this run
    sample = JSONAttribute(null=True)
    found = NumberAttribute(null=True)
    emailed = NumberAttribute(null=True)
    unsubscribed = NumberAttribute(null=True)
    rescheduled = NumberAttribute(null=True)
    kept = NumberAttribute(null=True)
    changed_since_read = NumberAttribute(null=True)
    email_failed = NumberAttribute(null=True)
    braked = NumberAttribute(null=True)

    @property
    def run_id(self) -> str:
        return self.sk


class RunListCounts(SubscriberPartition):
    remind = NumberAttribute(null=True)
    unsubscribe = NumberAttribute(null=True)


class CandidateChunk(SubscriberPartition):
    candidates = JSONAttribute()


class Cursor(SubscriberPartition):
    day = UnicodeAttribute()


def run_partition(run_id: str) -> str:
    return f"SUNSET#RUN#{run_id}"


def create_run(run_id: str, days: list[str], shards: int, dry_run: bool, now: datetime) -> Run:
    run = Run(
        RUNS, run_id, status="scanning", dry_run="yes" if dry_run else "no", days=days, shards=shards, started_at=now
    )
    run.save(condition=Run.pk.does_not_exist())
    return run


def get_run(run_id: str) -> Run | None:
    return get_or_none(Run, RUNS, run_id)


def recent_runs(limit: int = 20) -> list[Run]:
    return list(Run.query(RUNS, scan_index_forward=False, limit=limit))


def add_outcomes(run_id: str, counts: dict[str, int]) -> None:
    actions = [getattr(Run, name).add(value) for name, value in counts.items() if value and name in OUTCOMES]
    if actions:
        Run(RUNS, run_id).update(actions=actions)


def add_list_counts(run_id: str, list_id: str, remind: int, unsubscribe: int) -> None:
    RunListCounts(run_partition(run_id), f"LIST#{list_id}").update(
        actions=[RunListCounts.remind.add(remind), RunListCounts.unsubscribe.add(unsubscribe)]
    )


def list_counts(run_id: str) -> dict[str, tuple[int, int]]:
    return {
        c.sk.removeprefix("LIST#"): (int(c.remind or 0), int(c.unsubscribe or 0))
        for c in RunListCounts.query(run_partition(run_id), RunListCounts.sk.startswith("LIST#"))
    }


def finish_phase(run_id: str, phase: str) -> int:
    """Count a shard done with `phase` ("scanned" or "acted"); the count after ours."""
    attribute = {"scanned": Run.shards_scanned, "acted": Run.shards_acted}[phase]
    run = Run(RUNS, run_id)
    run.update(actions=[attribute.add(1)])  # PynamoDB reads back the new values (ALL_NEW)
    return int(getattr(run, attribute.attr_name))


def save_chunk(run_id: str, shard: int, number: int, candidates: list[dict], now: datetime) -> None:
    CandidateChunk(
        run_partition(run_id), f"CAND#{shard:02d}#{number:05d}", candidates=candidates, ttl=now + CHUNK_RETENTION
    ).save()


def chunks(run_id: str, shard: int) -> list[CandidateChunk]:
    return list(CandidateChunk.query(run_partition(run_id), CandidateChunk.sk.startswith(f"CAND#{shard:02d}#")))


def delete_chunk(chunk: CandidateChunk) -> None:
    chunk.delete()


def update_run(run_id: str, **values) -> None:
    Run(RUNS, run_id).update(actions=[getattr(Run, name).set(value) for name, value in values.items()])


def add_left_day(run_id: str, day: str) -> None:
    Run(RUNS, run_id).update(actions=[Run.left_days.add({day})])


def get_cursor() -> str | None:
    cursor = get_or_none(Cursor, CURSOR, "DAY")
    return cursor.day if cursor else None


def set_cursor(day: str) -> None:
    Cursor(CURSOR, "DAY", day=day).save()
