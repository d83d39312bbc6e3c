"""The daily inactive-subscriber job (sunset policy), fanned out through a queue.

plan (daily schedule) -> one `scan` message per shard: read the due index partitions of the
shard, keep the candidates, count them per list. The last shard to finish the scan checks the
safety brake for every list (a run that would move more than `max_share` of a list stops for
that list and reports) and sends one `act` message per shard: each candidate is moved by a
conditional write, so a click that arrives meanwhile wins and a second or overlapping run
changes nothing more. A worker that nears its time limit sends the rest of its work on as a
continuation message.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from chalicelib.core.observability import count, logger
from chalicelib.core.settings import ConfigurationError, get_settings
from chalicelib.storage import subscribers, sunset_runs
from chalicelib.storage.subscribers import Subscription
from chalicelib.sunset import policy as sunset_policy
from chalicelib.sunset.policy import policy_of

CHUNK_SIZE = 300
SAMPLE_SIZE = 20
SAFETY_MARGIN_MS = 60_000
MAX_CATCH_UP_DAYS = 400  # a job that stopped running for a while catches up from its cursor
FIRST_RUN_DAYS = 7  # due dates are set in the future; only a missed run leaves some behind

Enqueue = Callable[[list[dict]], None]
RemainingMs = Callable[[], int]


def _days(cursor: str | None, today: datetime) -> list[str]:
    today = today.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=FIRST_RUN_DAYS)
    if cursor:
        start = max(
            today - timedelta(days=MAX_CATCH_UP_DAYS), datetime.strptime(cursor, "%Y-%m-%d").replace(tzinfo=UTC)
        )
    start = min(start, today)
    return [(start + timedelta(days=i)).strftime("%Y-%m-%d") for i in range((today - start).days + 1)]


def plan_run(enqueue: Enqueue, now: datetime | None = None, dry_run: bool = False) -> str:
    now = now or datetime.now(UTC)
    run_id = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    days = _days(sunset_runs.get_cursor(), now)
    sunset_runs.create_run(run_id, days, sunset_policy.SHARDS, dry_run, now)
    enqueue([{"run_id": run_id, "phase": "scan", "shard": shard} for shard in range(sunset_policy.SHARDS)])
    logger.info("sunset run planned", extra={"run_id": run_id, "days": len(days), "dry_run": dry_run})
    return run_id


def _candidate(item: Subscription) -> sunset_policy.Candidate:
    return sunset_policy.Candidate(
        subscriber_id=item.pk,
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


def _as_record(item: Subscription, step: str) -> dict:
    return {
        "sid": item.pk,
        "list": item.list_id,
        "step": step,
        "due": item.sunset_due,
        "state": item.sunset_state,
        "email": item.email,
    }


def scan_shard(message: dict, enqueue: Enqueue, remaining_ms: RemainingMs, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    run = sunset_runs.get_run(message["run_id"])
    if run is None or run.status != "scanning":
        return
    shard, dry_run = message["shard"], run.dry_run == "yes"
    day_index, last_key, chunk_number = message.get("day", 0), message.get("last_key"), message.get("chunk", 0)
    outcomes: Counter = Counter()
    per_list: dict[str, Counter] = {}
    buffer: list[dict] = []
    days = run.days
    while day_index < len(days):
        items, last_key = subscribers.due_page(days[day_index], shard, last_key)
        for item in items:
            outcomes["found"] += 1
            step, when = sunset_policy.next_step(_candidate(item), policy_of(item.list_id), now)
            if step in ("remind", "unsubscribe"):
                buffer.append(_as_record(item, step))
                per_list.setdefault(item.list_id, Counter())[step] += 1
            elif step == "reschedule":
                moved = dry_run or subscribers.reschedule(item, when)
                outcomes["rescheduled" if moved else "changed_since_read"] += 1
        if last_key is None:
            day_index += 1
        if len(buffer) >= CHUNK_SIZE:
            sunset_runs.save_chunk(run.run_id, shard, chunk_number, buffer, now)
            chunk_number, buffer = chunk_number + 1, []
        if day_index < len(days) and remaining_ms() < SAFETY_MARGIN_MS:
            _flush_scan(run.run_id, shard, chunk_number, buffer, outcomes, per_list, now)
            enqueue([{**message, "day": day_index, "last_key": last_key, "chunk": chunk_number + (1 if buffer else 0)}])
            return
    _flush_scan(run.run_id, shard, chunk_number, buffer, outcomes, per_list, now)
    if sunset_runs.finish_phase(run.run_id, "scanned") == run.shards:
        _check_brake_and_act(run.run_id, enqueue, now)


def _flush_scan(run_id, shard, chunk_number, buffer, outcomes, per_list, now) -> None:
    if buffer:
        sunset_runs.save_chunk(run_id, shard, chunk_number, buffer, now)
    for list_id, steps in per_list.items():
        sunset_runs.add_list_counts(run_id, list_id, steps["remind"], steps["unsubscribe"])
    sunset_runs.add_outcomes(run_id, dict(outcomes))


def _check_brake_and_act(run_id: str, enqueue: Enqueue, now: datetime) -> None:
    run = sunset_runs.get_run(run_id)
    braked = set()
    for list_id, (remind, unsubscribe) in sunset_runs.list_counts(run_id).items():
        moves, members = remind + unsubscribe, subscribers.members_of(list_id)
        if sunset_policy.brake_engaged(moves, members, policy_of(list_id)):
            braked.add(list_id)
            logger.warning(
                "sunset safety brake", extra={"run_id": run_id, "list_id": list_id, "moves": moves, "members": members}
            )
            count("SunsetBrakes", list_id=list_id)
    sample = [{"subscriber_id": c["sid"], "list_id": c["list"], "step": c["step"]} for c in _sample(run_id, run.shards)]
    if braked:
        sunset_runs.update_run(run_id, braked_lists=braked)
    if run.dry_run == "yes":
        sunset_runs.update_run(run_id, status="done", finished_at=now, sample=sample)
        for shard in range(int(run.shards)):
            for chunk in sunset_runs.chunks(run_id, shard):
                sunset_runs.delete_chunk(chunk)
        return
    sunset_runs.update_run(run_id, status="acting", sample=sample)
    enqueue([{"run_id": run_id, "phase": "act", "shard": shard} for shard in range(int(run.shards))])


def _sample(run_id: str, shards) -> list[dict]:
    found: list[dict] = []
    for shard in range(int(shards)):
        for chunk in sunset_runs.chunks(run_id, shard):
            found.extend(chunk.candidates[: SAMPLE_SIZE - len(found)])
            if len(found) >= SAMPLE_SIZE:
                return found
    return found


def _subscription(record: dict) -> Subscription:
    """What the scan read: the conditions of every transition compare against it."""
    return Subscription(
        record["sid"],
        subscribers.list_key(record["list"]),
        list_id=record["list"],
        status="active",
        sunset_due=record["due"],
        sunset_state=record["state"],
        email=record["email"],
    )


def act_shard(
    message: dict,
    enqueue: Enqueue,
    remaining_ms: RemainingMs,
    send_reminder: Callable[[dict], None],
    now: datetime | None = None,
) -> None:
    now = now or datetime.now(UTC)
    run = sunset_runs.get_run(message["run_id"])
    if run is None or run.status != "acting":
        return
    braked = set(run.braked_lists or ())
    outcomes: Counter = Counter()
    left_days: set[str] = set()
    start, position = message.get("position", 0), 0
    for chunk in sunset_runs.chunks(run.run_id, message["shard"]):
        for record in chunk.candidates:
            position += 1
            if position <= start:
                continue
            if remaining_ms() < SAFETY_MARGIN_MS:
                _flush_act(run.run_id, outcomes, left_days)
                enqueue([{**message, "position": position - 1}])
                return
            if record["list"] in braked:
                left_days.add(record["due"].split("#")[0])  # still due: the next run finds them again
                outcomes["braked"] += 1
            else:
                outcomes[_act_on(record, send_reminder, now)] += 1
        sunset_runs.delete_chunk(chunk)
    _flush_act(run.run_id, outcomes, left_days)
    if sunset_runs.finish_phase(run.run_id, "acted") == run.shards:
        _finish(run.run_id, now)


def _flush_act(run_id: str, outcomes: Counter, left_days: set[str]) -> None:
    sunset_runs.add_outcomes(run_id, dict(outcomes))
    for day in left_days:
        sunset_runs.add_left_day(run_id, day)
    for outcome, n in outcomes.items():
        if n:
            count("SunsetTransitions", outcome=outcome)


def _act_on(record: dict, send_reminder, now: datetime) -> str:
    policy = policy_of(record["list"])
    subscription = _subscription(record)
    if record["step"] == "unsubscribe":
        return "unsubscribed" if subscribers.sunset_unsubscribe(subscription, now) else "kept"
    if not subscribers.mark_pending(subscription, now):
        return "kept"
    try:
        send_reminder(record)
    except Exception:  # noqa: BLE001  (any failure to send: release, retry on a later run)
        logger.exception("re-permission email failed", extra={"list_id": record["list"]})
        subscribers.release_pending(
            Subscription(record["sid"], subscribers.list_key(record["list"])), now + timedelta(days=1)
        )
        return "email_failed"
    subscribers.mark_reminded(subscription, now, now + timedelta(days=policy.grace_days))
    return "emailed"


def _finish(run_id: str, now: datetime) -> None:
    run = sunset_runs.get_run(run_id)
    sunset_runs.update_run(run_id, status="done", finished_at=now)
    left = sorted(run.left_days or ())
    sunset_runs.set_cursor(left[0] if left else (now + timedelta(days=1)).strftime("%Y-%m-%d"))
    logger.info("sunset run done", extra={"run_id": run_id})


def work(
    message: dict, enqueue: Enqueue, remaining_ms: RemainingMs, send_reminder, now: datetime | None = None
) -> None:
    if message.get("phase") == "scan":
        scan_shard(message, enqueue, remaining_ms, now)
    elif message.get("phase") == "act":
        act_shard(message, enqueue, remaining_ms, send_reminder, now)
    else:
        logger.warning("unknown sunset message", extra={"phase": message.get("phase")})


def report(run) -> dict:
    values = run.attribute_values
    return {
        "run_id": run.run_id,
        "status": run.status,
        "dry_run": run.dry_run == "yes",
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "days": len(run.days),
        "outcomes": {name: int(values.get(name) or 0) for name in sunset_runs.OUTCOMES},
        "braked_lists": sorted(run.braked_lists or ()),
        "per_list": {k: {"remind": r, "unsubscribe": u} for k, (r, u) in sunset_runs.list_counts(run.run_id).items()},
        "sample": run.sample or [],
    }


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
