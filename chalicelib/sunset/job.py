"""The daily inactive-subscriber job (sunset policy), fanned out through a queue.

plan (daily schedule) -> one `scan` message per shard: read the due index partitions of the
shard, keep the candidates, count them per list. The last shard to finish the scan checks the
safety brake for every list (a run that would move more than `max_share` of a list, or bring
what the last 7 or 30 days moved above `max_share_7d` / `max_share_30d`, stops for that list
and reports) and sends one `act` message per shard: each candidate is moved by a conditional
write, so a click that arrives meanwhile wins and a second or overlapping run changes nothing
more. A person's subscriptions all live on one shard, so the act worker of that shard sends
them one re-permission email naming every list at stake. A worker that nears its time limit
sends the rest of its work on as a continuation message.

Time: a run belongs to the day it was planned (UTC) and decides by whole days (see
`policy.next_step`), whatever the clocks of its workers say. After a run the cursor is the
run's day (or an earlier day it left subscribers due on), so the next run reads that day
again: writes that landed in it after its scan (a join, a release) are never left behind.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

from chalicelib.core.observability import count, logger
from chalicelib.core.settings import ConfigurationError, get_settings
from chalicelib.domain import consent
from chalicelib.domain import sunset as clock
from chalicelib.domain.sunset import Acted, Step, SunsetState, Tally
from chalicelib.storage import sunset_dynamodb, sunset_runs  # noqa: F401  (sunset_dynamodb: the default store)
from chalicelib.storage.store import DueSubscription, consent_store, sunset_store
from chalicelib.sunset import policy as sunset_policy
from chalicelib.sunset.policy import policy_of

CHUNK_SIZE = 300
SAMPLE_SIZE = 20
SAFETY_MARGIN_MS = 60_000
MAX_CATCH_UP_DAYS = 400  # a job that stopped running for a while catches up from its cursor
FIRST_RUN_DAYS = 7  # due dates are set in the future; only a missed run leaves some behind
PENDING_STALE_AFTER = timedelta(minutes=15)  # a Lambda's longest run: a worker still sending is younger

Enqueue = Callable[[list[dict]], None]
RemainingMs = Callable[[], int]


class Phase(StrEnum):
    """A queue message's phase (the messages are JSON: a phase travels as its value)."""

    SCAN = "scan"
    ACT = "act"


@dataclass(frozen=True)
class Work:
    """One queue message: a phase of a run for one shard and, in a continuation, where it
    resumes (None: from the start). On the queue it is JSON (`read`, `as_message`)."""

    run_id: str
    phase: Phase
    shard: int
    day: int | None = None  # scan: the index of the day it resumes on
    last_key: dict | None = None  # scan: where in that day's partition
    chunk: int | None = None  # scan: the number of its next chunk
    person: int | None = None  # act: the index of the person it resumes with

    @classmethod
    def read(cls, message: dict) -> Work:
        return cls(
            message["run_id"],
            Phase(message["phase"]),
            message["shard"],
            message.get("day"),
            message.get("last_key"),
            message.get("chunk"),
            message.get("person"),
        )

    def as_message(self) -> dict:
        message = {"run_id": self.run_id, "phase": str(self.phase), "shard": self.shard}
        if self.day is not None:  # a scan that resumes
            message |= {"day": self.day, "last_key": self.last_key, "chunk": self.chunk}
        if self.person is not None:  # an act that resumes
            message["person"] = self.person
        return message


class RunStatus(StrEnum):
    SCANNING = "scanning"
    ACTING = "acting"
    DONE = "done"


@dataclass(frozen=True)
class Due:
    """A candidate the scan found and the act phase moves: what the scan read of it, kept in
    the run's chunks between the phases (as `as_chunk`'s short keys)."""

    subscriber_id: str
    list_id: str
    step: Step
    due: str
    state: SunsetState | None
    email: str | None
    reminded: str | None  # the day (YYYY-MM-DD) of its reminder, for the brake's windows

    @classmethod
    def read(cls, item: DueSubscription, step: Step) -> Due:
        return cls(
            item.subscriber_id,
            item.list_id,
            step,
            item.sunset_due,
            SunsetState(item.sunset_state) if item.sunset_state else None,
            item.email,
            f"{item.reminder_sent_at:%Y-%m-%d}" if item.reminder_sent_at else None,
        )

    @classmethod
    def from_chunk(cls, record: dict) -> Due:
        return cls(
            record["sid"],
            record["list"],
            Step(record["step"]),
            record["due"],
            SunsetState(record["state"]) if record.get("state") else None,
            record.get("email"),
            record.get("reminded"),
        )

    def as_chunk(self) -> dict:
        return {
            "sid": self.subscriber_id,
            "list": self.list_id,
            "step": str(self.step),
            "due": self.due,
            "state": str(self.state) if self.state else None,
            "email": self.email,
            "reminded": self.reminded,
        }

    @property
    def clock(self) -> clock.Clock:
        return clock.Clock(self.subscriber_id, self.list_id, self.due, self.state)

    @property
    def due_day(self) -> str:
        return self.due.split("#")[0]

    @property
    def reminded_on(self) -> datetime | None:
        return sunset_policy.start_of(date.fromisoformat(self.reminded)) if self.reminded else None


@dataclass(frozen=True)
class Reminder:
    """One re-permission email: the person, their address, every list it names (sorted)."""

    subscriber_id: str
    email: str | None
    lists: tuple[str, ...]


def _days(cursor: str | None, today: datetime) -> list[str]:
    """The days a run on `today` reads: from the cursor (the last complete run's day, or an
    earlier day it left subscribers due on), never starting after yesterday, so a late write
    into the last run's day is read, whatever the cursor says."""
    today = today.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=FIRST_RUN_DAYS)
    if cursor:
        start = max(
            today - timedelta(days=MAX_CATCH_UP_DAYS), datetime.strptime(cursor, "%Y-%m-%d").replace(tzinfo=UTC)
        )
    start = min(start, today - timedelta(days=1))
    return [(start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range((today - start).days + 1)]


def run_day(run) -> date:
    """The day a run belongs to: the last day it reads."""
    return date.fromisoformat(run.days[-1])


def plan_run(enqueue: Enqueue, now: datetime | None = None, dry_run: bool = False) -> str:
    now = now or datetime.now(UTC)
    run_id = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    days = _days(sunset_store().get_cursor(), now)
    sunset_store().create_run(run_id, days, sunset_policy.SHARDS, dry_run, now)
    enqueue([Work(run_id, Phase.SCAN, shard).as_message() for shard in range(sunset_policy.SHARDS)])
    logger.info("sunset run planned", extra={"run_id": run_id, "days": len(days), "dry_run": dry_run})
    return run_id


def _candidate(item: DueSubscription) -> sunset_policy.Candidate:
    return sunset_policy.Candidate(
        subscriber_id=item.subscriber_id,
        list_id=item.list_id,
        status=item.status,
        subscribed_at=item.subscribed_at,
        last_engaged_at=item.last_engaged_at,
        sends_since_engaged=int(item.sends_since_engaged or 0),
        sunset_state=item.sunset_state,
        pending_since=item.pending_since,
        reminder_sent_at=item.reminder_sent_at,
        due=item.sunset_due,
    )


def _count_candidate(counts: Counter, record: Due, today: date) -> None:
    """A run's counts for a list: its moves, and which of its unsubscribes were reminded before
    each brake window (the others were counted in the window when they were reminded)."""
    counts[str(record.step)] += 1
    if record.step == Step.UNSUBSCRIBE:
        for window in sunset_policy.WINDOWS:
            if (record.reminded or "") < sunset_policy.window_start(today, window).isoformat():
                counts[f"unsubscribe_before_{window}"] += 1


def scan_shard(work: Work, enqueue: Enqueue, remaining_ms: RemainingMs, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    run = sunset_store().get_run(work.run_id)
    if run is None or run.status != RunStatus.SCANNING:
        return
    shard, dry_run = work.shard, run.is_dry_run
    day_index, last_key, chunk_number = work.day or 0, work.last_key, work.chunk or 0
    outcomes: Counter = Counter()
    per_list: dict[str, Counter] = {}
    buffer: list[Due] = []
    days, today = run.days, run_day(run)
    while day_index < len(days):
        items, last_key = sunset_store().due_page(days[day_index], shard, last_key)
        for item in items:
            outcomes[Tally.FOUND] += 1
            step, when = sunset_policy.next_step(_candidate(item), policy_of(item.list_id), today)
            if step in (Step.REMIND, Step.UNSUBSCRIBE):
                buffer.append(Due.read(item, step))
                _count_candidate(per_list.setdefault(item.list_id, Counter()), buffer[-1], today)
            elif step == Step.RESCHEDULE:
                plan = clock.plan_reschedule(Due.read(item, step).clock, when)
                outcomes[plan.done if dry_run or sunset_store().commit_clock(plan) else plan.not_done] += 1
        if last_key is None:
            day_index += 1
        if len(buffer) >= CHUNK_SIZE:
            sunset_store().save_chunk(run.run_id, shard, chunk_number, [r.as_chunk() for r in buffer], now)
            chunk_number, buffer = chunk_number + 1, []
        if day_index < len(days) and remaining_ms() < SAFETY_MARGIN_MS:
            _flush_scan(run.run_id, shard, chunk_number, buffer, outcomes, per_list, now)
            rest = replace(work, day=day_index, last_key=last_key, chunk=chunk_number + (1 if buffer else 0))
            enqueue([rest.as_message()])
            return
    _flush_scan(run.run_id, shard, chunk_number, buffer, outcomes, per_list, now)
    if sunset_store().finish_phase(run.run_id, "scanned", shard) == run.shards:
        _check_brake_and_act(run.run_id, enqueue, now)


def _flush_scan(run_id, shard, chunk_number, buffer: list[Due], outcomes, per_list, now) -> None:
    if buffer:
        sunset_store().save_chunk(run_id, shard, chunk_number, [r.as_chunk() for r in buffer], now)
    for list_id, counts in per_list.items():
        sunset_store().add_list_counts(run_id, list_id, dict(counts))
    sunset_store().add_outcomes(run_id, _plain(outcomes))


def _plain(outcomes: Counter) -> dict[str, int]:
    return {str(outcome): n for outcome, n in outcomes.items()}


def _windows(list_id: str, today: date, counts: dict[str, int]) -> dict[str, tuple[int, int]]:
    """For each brake window ending on `today`: (subscriptions acted on in it, each once, this
    run included; subscriptions the job unsubscribed in it before this run). One query."""
    start = sunset_policy.start_of(today)
    longest = max(sunset_policy.WINDOWS.values())
    history = sunset_store().acted_between(list_id, start - timedelta(days=longest - 1), start)
    windows = {}
    for window in sunset_policy.WINDOWS:
        first = sunset_policy.window_start(today, window).isoformat()
        inside = [a for a in history if a.day >= first]
        reminded = sum(a.n for a in inside if a.kind == Acted.REMINDED)
        unsubscribed = sum(a.n for a in inside if a.kind == Acted.UNSUBSCRIBED)
        # An unsubscribe whose reminder is in the window is that reminder's subscription again.
        reminded_earlier = sum(a.n for a in inside if a.kind == Acted.UNSUBSCRIBED and (a.reminded_on or "") < first)
        this_run = counts[Step.REMIND] + counts[f"unsubscribe_before_{window}"]
        windows[window] = (reminded + reminded_earlier + this_run, unsubscribed)
    return windows


def _check_brake_and_act(run_id: str, enqueue: Enqueue, now: datetime) -> None:
    run = sunset_store().get_run(run_id)
    today = run_day(run)
    braked = set()
    for list_id, counts in sunset_store().list_counts(run_id).items():
        moves = counts[Step.REMIND] + counts[Step.UNSUBSCRIBE]
        if moves <= 0:
            continue
        members, policy = consent_store().members(list_id), policy_of(list_id)
        windows = _windows(list_id, today, counts)
        why = sunset_policy.brake_reason(moves, members, policy, windows)
        if why:
            braked.add(list_id)
            logger.warning(
                "sunset safety brake",
                extra={
                    "run_id": run_id,
                    "list_id": list_id,
                    "limit": why,
                    "moves": moves,
                    "members": members,
                    "acted_7d": windows["7d"][0],
                    "acted_30d": windows["30d"][0],
                },
            )
            count("SunsetBrakes", list_id=list_id)
            count("SunsetBrakes")  # the service-wide series SunsetBrakeAlarm watches
    sample = [
        {"subscriber_id": c.subscriber_id, "list_id": c.list_id, "step": c.step} for c in _sample(run_id, run.shards)
    ]
    if braked:
        sunset_store().update_run(run_id, braked_lists=braked)
    if run.is_dry_run:
        sunset_store().update_run(run_id, status=RunStatus.DONE, finished_at=now, sample=sample)
        for shard in range(int(run.shards)):
            for chunk in sunset_store().chunks(run_id, shard):
                sunset_store().delete_chunk(chunk)
        return
    sunset_store().update_run(run_id, status=RunStatus.ACTING, sample=sample)
    enqueue([Work(run_id, Phase.ACT, shard).as_message() for shard in range(int(run.shards))])


def _sample(run_id: str, shards) -> list[Due]:
    found: list[Due] = []
    for shard in range(int(shards)):
        for chunk in sunset_store().chunks(run_id, shard):
            found.extend(map(Due.from_chunk, chunk.candidates[: SAMPLE_SIZE - len(found)]))
            if len(found) >= SAMPLE_SIZE:
                return found
    return found


def _state_read(record: Due) -> consent.SubscriptionState:
    """What the scan read, for the consent planner: the conditions compare against it."""
    return consent.SubscriptionState(record.list_id, consent.ACTIVE, sunset_due=record.due, sunset_state=record.state)


def _by_person(chunks) -> list[list[Due]]:
    """The shard's candidates, grouped by subscriber, in the order first seen (stable for a
    continuation: the chunks stay until the shard is done)."""
    people: dict[str, list[Due]] = {}
    for chunk in chunks:
        for record in map(Due.from_chunk, chunk.candidates):
            people.setdefault(record.subscriber_id, []).append(record)
    return list(people.values())


class _Tally:
    """What an act worker did, for the run's report: written out at its end or before a
    continuation. The brake's counts are not here: each is committed with its action."""

    def __init__(self):
        self.outcomes: Counter = Counter()
        self.left_days: set[str] = set()

    def flush(self, run_id: str) -> None:
        sunset_store().add_outcomes(run_id, _plain(self.outcomes))
        sunset_store().add_left_days(run_id, self.left_days)
        for outcome, n in self.outcomes.items():
            if n:
                count("SunsetTransitions", outcome=outcome)


def act_shard(
    work: Work,
    enqueue: Enqueue,
    remaining_ms: RemainingMs,
    send_reminder: Callable[[Reminder], None],
    now: datetime | None = None,
) -> None:
    now = now or datetime.now(UTC)
    run = sunset_store().get_run(work.run_id)
    if run is None or run.status != RunStatus.ACTING:
        return
    braked, today = set(run.braked_lists or ()), run_day(run)
    tally = _Tally()
    chunks = sunset_store().chunks(run.run_id, work.shard)
    people = _by_person(chunks)
    start = work.person or 0
    for index in range(start, len(people)):
        if index > start and remaining_ms() < SAFETY_MARGIN_MS:
            tally.flush(run.run_id)
            enqueue([replace(work, person=index).as_message()])
            return
        _act_on_person(people[index], braked, send_reminder, now, sunset_policy.start_of(today), tally)
    for chunk in chunks:
        sunset_store().delete_chunk(chunk)
    tally.flush(run.run_id)
    if sunset_store().finish_phase(run.run_id, "acted", work.shard) == run.shards:
        _finish(run.run_id, now)


def _act_on_person(
    records: list[Due], braked: set[str], send_reminder, now: datetime, day: datetime, tally: _Tally
) -> None:
    """Every due subscription of one person: unsubscribes one by one, reminders in one email
    naming every list it marked pending (each mark conditional on what the scan read). Each
    action counts itself for the brake on the run's `day`, in its own transaction."""
    to_remind: list[Due] = []
    for record in records:
        if record.list_id in braked:
            tally.left_days.add(record.due_day)  # still due: the next run finds them again
            tally.outcomes[Tally.BRAKED] += 1
        elif record.step == Step.UNSUBSCRIBE:
            plan = clock.plan_final_unsubscribe(_state_read(record), now, day, record.reminded_on)
            done = sunset_store().commit_sunset_unsubscribe(record.subscriber_id, record.list_id, plan, now)
            tally.outcomes[plan.done if done else plan.not_done] += 1
        else:
            plan = clock.plan_mark_pending(record.clock, now, now - PENDING_STALE_AFTER)
            if sunset_store().commit_clock(plan):
                to_remind.append(record)
            else:
                # Read as pending: another worker may be sending to them right now. Otherwise
                # engaged or left since the scan, usually; or marked pending by a worker of this
                # run that died before sending (this message is its redelivery). Either way the
                # cursor stays on their day: a later run takes over.
                tally.left_days.add(record.due_day)
                tally.outcomes[plan.not_done] += 1
    if not to_remind:
        return
    to_remind.sort(key=lambda r: r.list_id)
    reminder = Reminder(to_remind[0].subscriber_id, to_remind[0].email, tuple(r.list_id for r in to_remind))
    try:
        send_reminder(reminder)
    except Exception:  # noqa: BLE001  (any failure to send: release, retry on a later run)
        logger.exception("re-permission email failed", extra={"lists": list(reminder.lists)})
        for record in to_remind:
            plan = clock.plan_release_pending(record.clock, now + timedelta(days=1))
            sunset_store().commit_clock(plan)
            tally.outcomes[plan.done] += 1
        return
    tally.outcomes[Tally.EMAILS_SENT] += 1
    for record in to_remind:
        grace = timedelta(days=policy_of(record.list_id).grace_days)
        plan = clock.plan_mark_reminded(record.clock, now, now + grace, day)
        tally.outcomes[plan.done if sunset_store().commit_clock(plan) else plan.not_done] += 1


def _finish(run_id: str, now: datetime) -> None:
    run = sunset_store().get_run(run_id)
    sunset_store().update_run(run_id, status=RunStatus.DONE, finished_at=now)
    # The run's own day is read again by the next run: it may have got writes after the scan.
    sunset_store().set_cursor(min([*(run.left_days or ()), run.days[-1]]))
    logger.info("sunset run done", extra={"run_id": run_id})


def work(
    message: dict, enqueue: Enqueue, remaining_ms: RemainingMs, send_reminder, now: datetime | None = None
) -> None:
    if message.get("phase") not in tuple(Phase):
        logger.warning("unknown sunset message", extra={"phase": message.get("phase")})
        return
    work = Work.read(message)
    if work.phase == Phase.SCAN:
        scan_shard(work, enqueue, remaining_ms, now)
    else:
        act_shard(work, enqueue, remaining_ms, send_reminder, now)


def report(run) -> dict:
    return {
        "run_id": run.run_id,
        "status": run.status,
        "dry_run": run.is_dry_run,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "days": len(run.days),
        "outcomes": {name: run.outcomes.get(name, 0) for name in sunset_runs.OUTCOMES},
        "braked_lists": sorted(run.braked_lists or ()),
        "per_list": {
            k: {"remind": c[Step.REMIND], "unsubscribe": c[Step.UNSUBSCRIBE]}
            for k, c in sunset_store().list_counts(run.run_id).items()
        },
        "sample": run.sample or [],
    }


def run_report(run_id: str) -> dict | None:
    """The report of one run (None: no such run)."""
    run = sunset_store().get_run(run_id)
    return report(run) if run else None


def recent_reports() -> list[dict]:
    """The reports of the latest runs, newest first."""
    return [report(run) for run in sunset_store().recent_runs()]


def run_locally(dry_run: bool, send_reminder, now: datetime | None = None, on_step=None) -> str:
    """The whole job in this process, the queue kept in memory: for the CLI, tests and benchmarks.
    `on_step()` is called after each queue message (the CLI's progress)."""
    queue: list[dict] = []
    run_id = plan_run(queue.extend, now, dry_run)
    while queue:
        work(queue.pop(0), queue.extend, lambda: 900_000, send_reminder, now)
        if on_step:
            on_step(1)
    return run_id


def enqueue(messages: list[dict]) -> None:
    """The job's queue in AWS: one message per shard and phase, plus continuations."""
    from chalicelib.core.aws import send_messages

    url = get_settings().sunset_queue_url
    if not url:
        raise ConfigurationError("SUNSET_QUEUE_URL is not set")
    send_messages(url, messages)
