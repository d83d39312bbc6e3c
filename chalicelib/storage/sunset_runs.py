"""Sunset job runs, in the subscribers table: the run report (`SUNSET#RUNS` / run id), per-list
counts of each run (`SUNSET#RUN#<id>` / `LIST#<list>`), each shard's candidates between the
scan and the act phase (`SUNSET#RUN#<id>` / `CAND#<shard>#<chunk>`, expiring in two days,
deleted once acted on), the cursor (`SUNSET#CURSOR`), and what the job did to each list per
day (`SUNSET#ACTED#<list>` / `YYYY-MM-DD`, atomic counters kept 40 days) for the rolling brake.
`sunset_dynamodb` makes these functions, with the subscriptions' reads and steps
(`subscribers.sunset`), the job's `store.SunsetStore`."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.core.ids import shard_of
from chalicelib.storage.store import Acted, CandidateChunk, SunsetRun
from chalicelib.storage.subscribers.models import SubscriberPartition
from chalicelib.storage.transactions import Transaction, get_or_none, storage_errors, written

RUNS = "SUNSET#RUNS"
CURSOR = "SUNSET#CURSOR"
CHUNK_RETENTION = timedelta(days=2)
ACTED_RETENTION = timedelta(days=40)  # the longest brake window is 30 days
OUTCOMES = (
    "found",
    "emailed",
    "emails_sent",
    "unsubscribed",
    "rescheduled",
    "kept",
    "changed_since_read",
    "email_failed",
    "braked",
)


class Run(SubscriberPartition):
    status = UnicodeAttribute()  # scanning | acting | done
    dry_run = UnicodeAttribute()  # "yes" | "no"
    days = JSONAttribute()
    shards = NumberAttribute()
    started_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    scanned_shards = NumberSetAttribute(null=True)  # sets: a redelivered message counts once
    acted_shards = NumberSetAttribute(null=True)
    braked_lists = UnicodeSetAttribute(null=True)
    left_days = UnicodeSetAttribute(null=True)  # due days that still hold items after this run
    sample = JSONAttribute(null=True)
    found = NumberAttribute(null=True)
    emailed = NumberAttribute(null=True)  # subscriptions reminded
    emails_sent = NumberAttribute(null=True)  # re-permission emails (one per person and run)
    unsubscribed = NumberAttribute(null=True)
    rescheduled = NumberAttribute(null=True)
    kept = NumberAttribute(null=True)
    changed_since_read = NumberAttribute(null=True)
    email_failed = NumberAttribute(null=True)
    braked = NumberAttribute(null=True)

    @property
    def is_dry_run(self) -> bool:
        """Stored as "yes" or "no" (the items written so far); callers see a bool."""
        return self.dry_run == "yes"

    @property
    def run_id(self) -> str:
        return self.sk


class RunListCounts(SubscriberPartition):
    remind = NumberAttribute(null=True)
    unsubscribe = NumberAttribute(null=True)
    # Of the unsubscribes, those whose reminder came before the start of the brake's windows.
    unsubscribe_before_7d = NumberAttribute(null=True)
    unsubscribe_before_30d = NumberAttribute(null=True)


LIST_COUNTS = ("remind", "unsubscribe", "unsubscribe_before_7d", "unsubscribe_before_30d")


class Chunk(SubscriberPartition):
    candidates = JSONAttribute()


class Cursor(SubscriberPartition):
    day = UnicodeAttribute()


class ListActed(SubscriberPartition):
    """What the job did to one list on one day (the run's day), per subscriber shard:
    `<day>#reminded#-#<shard>`, and `<day>#unsubscribed#<day of their reminder>#<shard>` (`-`
    when unknown). Items written before the shard was added lack it and are read the same."""

    n = NumberAttribute(null=True)


def run_value(run: Run) -> SunsetRun:
    values = run.attribute_values
    return SunsetRun(
        run.sk,
        run.status,
        run.is_dry_run,
        list(run.days or ()),
        int(run.shards or 0),
        run.started_at,
        run.finished_at,
        frozenset(run.braked_lists or ()),
        frozenset(run.left_days or ()),
        run.sample,
        {name: int(values[name]) for name in OUTCOMES if values.get(name)},
    )


def run_partition(run_id: str) -> str:
    return f"SUNSET#RUN#{run_id}"


@storage_errors
def create_run(run_id: str, days: list[str], shards: int, dry_run: bool, now: datetime) -> SunsetRun:
    run = Run(
        RUNS, run_id, status="scanning", dry_run="yes" if dry_run else "no", days=days, shards=shards, started_at=now
    )
    run.save(condition=Run.pk.does_not_exist())
    return run_value(run)


def get_run(run_id: str) -> SunsetRun | None:
    run = get_or_none(Run, RUNS, run_id)
    return run_value(run) if run else None


@storage_errors
def recent_runs(limit: int = 20) -> list[SunsetRun]:
    return [run_value(run) for run in Run.query(RUNS, scan_index_forward=False, limit=limit)]


@storage_errors
def add_outcomes(run_id: str, counts: dict[str, int]) -> None:
    actions = [getattr(Run, name).add(value) for name, value in counts.items() if value and name in OUTCOMES]
    if actions:
        Run(RUNS, run_id).update(actions=actions)


@storage_errors
def add_list_counts(run_id: str, list_id: str, counts: dict[str, int]) -> None:
    """Add to a run's counts for a list (names in LIST_COUNTS)."""
    actions = [getattr(RunListCounts, name).add(int(counts.get(name, 0))) for name in LIST_COUNTS]
    RunListCounts(run_partition(run_id), f"LIST#{list_id}").update(actions=actions)


@storage_errors
def list_counts(run_id: str) -> dict[str, dict[str, int]]:
    return {
        c.sk.removeprefix("LIST#"): {name: int(getattr(c, name) or 0) for name in LIST_COUNTS}
        for c in RunListCounts.query(run_partition(run_id), RunListCounts.sk.startswith("LIST#"))
    }


def finish_phase(run_id: str, phase: str, shard: int) -> int | None:
    """Count `shard` done with `phase` ("scanned" or "acted"): the number of shards done after
    ours, or None when this shard was counted already (a message delivered twice)."""
    attribute = {"scanned": Run.scanned_shards, "acted": Run.acted_shards}[phase]
    run = Run(RUNS, run_id)
    counted = written(
        lambda: run.update(
            actions=[attribute.add({shard})],
            condition=attribute.does_not_exist() | ~attribute.contains(shard),
        )
    )  # PynamoDB reads back the new values (ALL_NEW)
    return len(getattr(run, attribute.attr_name) or ()) if counted else None


def _chunk_key(shard: int, number: int) -> str:
    return f"CAND#{shard:02d}#{number:05d}"


@storage_errors
def save_chunk(run_id: str, shard: int, number: int, candidates: list[dict], now: datetime) -> None:
    Chunk(run_partition(run_id), _chunk_key(shard, number), candidates=candidates, ttl=now + CHUNK_RETENTION).save()


@storage_errors
def chunks(run_id: str, shard: int) -> list[CandidateChunk]:
    return [
        CandidateChunk(run_id, shard, int(chunk.sk.rsplit("#", 1)[1]), chunk.candidates)
        for chunk in Chunk.query(run_partition(run_id), Chunk.sk.startswith(f"CAND#{shard:02d}#"))
    ]


@storage_errors
def delete_chunk(chunk: CandidateChunk) -> None:
    Chunk(run_partition(chunk.run_id), _chunk_key(chunk.shard, chunk.number)).delete()


@storage_errors
def update_run(run_id: str, **values) -> None:
    Run(RUNS, run_id).update(actions=[getattr(Run, name).set(value) for name, value in values.items()])


@storage_errors
def add_left_days(run_id: str, days: set[str]) -> None:
    """Due days (YYYY-MM-DD) this run left subscribers on: the cursor goes back to the earliest."""
    if days:
        Run(RUNS, run_id).update(actions=[Run.left_days.add(set(days))])


def _acted_partition(list_id: str) -> str:
    return f"SUNSET#ACTED#{list_id}"


def count_acted(
    transaction: Transaction,
    list_id: str,
    day: datetime,
    subscriber_id: str,
    kind: str,
    reminded_on: datetime | None = None,
) -> Transaction:
    """Count one subscription the job acted on, in the transaction of the action itself (a
    worker that dies afterwards has counted it; one whose action failed has not): `kind`
    "reminded" or "unsubscribed" (by the day of its reminder, None: unknown) on the run's
    `day`. Atomic ADDs on one item per subscriber shard: one act worker writes each, so workers
    side by side never contend for it."""
    on = f"{reminded_on:%Y-%m-%d}" if reminded_on and kind == "unsubscribed" else "-"
    sk = f"{day:%Y-%m-%d}#{kind}#{on}#{shard_of(subscriber_id):02d}"
    return transaction.update(
        "acted",
        ListActed(_acted_partition(list_id), sk),
        [ListActed.n.add(1), ListActed.ttl.set(day + ACTED_RETENTION)],
    )


@storage_errors
def acted_between(list_id: str, first: datetime, last: datetime) -> list[Acted]:
    """What the job did to the list from the day of `first` to the day of `last`, both included,
    summed over the counters' shards. One query."""
    items = ListActed.query(_acted_partition(list_id), ListActed.sk.between(f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}~"))
    found: dict[tuple[str, str, str | None], int] = {}
    for item in items:
        day, kind, *rest = item.sk.split("#")
        reminded_on = rest[0] if rest and rest[0] != "-" else None
        found[day, kind, reminded_on] = found.get((day, kind, reminded_on), 0) + int(item.n or 0)
    return [Acted(day, kind, on, n) for (day, kind, on), n in found.items()]


def get_cursor() -> str | None:
    cursor = get_or_none(Cursor, CURSOR, "DAY")
    return cursor.day if cursor else None


@storage_errors
def set_cursor(day: str) -> None:
    """The first day (YYYY-MM-DD) the next run reads."""
    Cursor(CURSOR, "DAY", day=day).save()
