"""The in-memory sunset store and moto's DynamoDB, given the same long random history of what
the sunset job and the people it acts on do (joins, engagement, sends, leaving, pauses, the
job's reads of the due index and its clock steps from reads that may have gone stale, the final
unsubscribe, runs and chunks), answer every step the same way and hold the same after each:
the person's subscriptions and trail, the due index partitions they are in (page by page), the
brake's counters, members, the run and its chunks. Then whole daily runs of the job on both end
the same: reports, emails and every subscription."""

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import StorageUnavailable
from chalicelib.domain import sunset
from chalicelib.domain.consent import AuditContext, Source
from chalicelib.domain.sunset import Clock, SunsetState
from chalicelib.storage import lists, store, subscribers
from chalicelib.storage.memory import MemorySunsetStore
from chalicelib.sunset import job as sunset_job
from tests.contract.sunset_backends import dynamodb_stores
from tests.integration.sunset_simulation import Simulation, use_fewer_shards

START = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
LISTS = ("news", "promo")
PEOPLE = ("s1", "s2", "s3")
RUNS = ("r0", "r1")
STEPS = 100
DAYS = 12  # of daily runs
POLICY = {"inactive_days": 7, "grace_days": 3, "max_share": 1.0, "max_share_7d": 1.0, "max_share_30d": 1.0}

# How often each step comes: mostly the job's reads and steps, between people's own doings.
WEIGHTS = {
    "join": 4,
    "engage": 2,
    "send": 1,
    "unsubscribe": 0.5,
    "pause": 0.5,
    "read": 2,
    "reschedule": 1,
    "pending": 3,
    "reminded": 3,
    "release": 1,
    "final": 2,
    "run": 2,
    "chunk": 1,
}


STEPS_OF_THE_JOB = ("reschedule", "pending", "reminded", "release", "final")


def history(seed: int) -> list[tuple]:
    rng = random.Random(seed)
    kinds = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=STEPS)
    return [(kind, rng.choice(PEOPLE), rng.choice(LISTS), rng.randrange(1, 360), rng.randrange(60)) for kind in kinds]


def _read(chosen, sid: str, list_id: str) -> tuple[Clock, object] | None:
    """What the job reads of a subscription: its item in the due index (paged two at a time)."""
    state = store.consent_store().subscription(sid, list_id)
    if state.sunset_due is None:
        return None
    day, shard = state.sunset_due.split("#")
    for item in _partition(chosen, day, int(shard)):
        if (item.subscriber_id, item.list_id) == (sid, list_id):
            found = SunsetState(item.sunset_state) if item.sunset_state else None
            return Clock(sid, list_id, item.sunset_due, found), state
    raise AssertionError(f"{sid} {list_id} due on {state.sunset_due} but not in its partition")


def _partition(chosen, day: str, shard: int) -> list:
    items, last_key = chosen.due_page(day, shard, None, 2)
    while last_key is not None:
        more, last_key = chosen.due_page(day, shard, last_key, 2)
        items += more
    return items


def step(chosen, reads: dict, kind: str, sid: str, list_id: str, now: datetime, n: int):
    ctx, due = AuditContext(Source.API), now + timedelta(days=n % 4)
    read = reads.get((sid, list_id))
    if kind == "join":
        return subscribers.subscribe(sid, f"{sid}@example.com", list_id, ctx, now, due, n % 3 == 0)
    if kind == "engage":
        return subscribers.record_engagement(sid, list_id, now, due + timedelta(days=1))
    if kind == "send":
        return chosen.count_send(sid, list_id, f"m{n % 40}", now)
    if kind == "unsubscribe":
        change = subscribers.unsubscribe(sid, list_id, AuditContext(Source.ONE_CLICK), now)
        return change.applied, change.outcome
    if kind == "pause":
        change = subscribers.pause(sid, list_id, now + timedelta(days=n % 20), AuditContext(Source.PAGE), now)
        return change.applied, change.outcome
    if kind == "read":
        reads[sid, list_id] = _read(chosen, sid, list_id)
        return reads[sid, list_id] and (reads[sid, list_id][0], replace(reads[sid, list_id][1], last_event=None))
    if kind == "run":
        return _run_step(chosen, RUNS[n % 2], n, now)
    if kind == "chunk":
        run_id, shard = RUNS[n % 2], n % 2
        if n % 3:
            return chosen.save_chunk(run_id, shard, n % 3, [{"sid": sid, "list": list_id}], now)
        held = chosen.chunks(run_id, shard)
        return held and chosen.delete_chunk(held[0])
    if n % 3:  # the job reads, then acts; else it acts on an earlier read (stale, perhaps)
        read = reads[sid, list_id] = _read(chosen, sid, list_id)
    if read is None:
        return "nothing read"
    clock, state = read
    if kind == "reschedule":
        return chosen.commit_clock(sunset.plan_reschedule(clock, due))
    if kind == "pending":
        return chosen.commit_clock(sunset.plan_mark_pending(clock, now, now - timedelta(minutes=15 * (n % 3))))
    if kind == "reminded":
        return chosen.commit_clock(sunset.plan_mark_reminded(clock, now, now + timedelta(days=3), now))
    if kind == "release":
        return chosen.commit_clock(sunset.plan_release_pending(clock, due))
    reminded_on = now - timedelta(days=3) if n % 2 else None
    plan = sunset.plan_final_unsubscribe(state, now, now, reminded_on)
    return chosen.commit_sunset_unsubscribe(sid, list_id, plan, now)


def _run_step(chosen, run_id: str, n: int, now: datetime):
    match n % 5:
        case 0:
            try:
                return chosen.create_run(run_id, [f"{now:%Y-%m-%d}"], 2, n % 2 == 0, now)
            except StorageUnavailable:
                return "exists"
        case 1:
            return chosen.finish_phase(run_id, ("scanned", "acted")[n % 2], n % 3)
        case 2:
            return chosen.add_outcomes(run_id, {"found": n % 4, "emailed": n % 2})
        case 3:
            return chosen.add_left_days(run_id, {f"{now - timedelta(days=n % 3):%Y-%m-%d}"})
        case _:
            return chosen.update_run(run_id, status=("acting", "done")[n % 2], finished_at=now)


def held(chosen, kind: str, sid: str, list_id: str, now: datetime) -> tuple:
    """What the step could have changed: the person, the list's counts, the partitions the
    person is due in; the runs and their chunks after a step on them."""
    consent = store.consent_store()
    if kind in ("run", "chunk"):
        return [chosen.get_run(run_id) for run_id in RUNS], [
            chosen.chunks(run_id, s) for run_id in RUNS for s in (0, 1)
        ]
    profile, subscriptions = consent.everything(sid)
    partitions = sorted({s.sunset_due for s in subscriptions if s.sunset_due})
    return (
        profile and replace(profile, opted_out_event=None, undone=len(profile.undone)),  # event keys are random
        [replace(s, last_event=None) for s in subscriptions],
        [(r.action, r.list_id, r.source, r.at) for r in consent.trail(sid)],
        consent.members(list_id),
        chosen.acted_between(list_id, START, now),
        {p: _partition(chosen, p.split("#")[0], int(p.split("#")[1])) for p in partitions},
    )


def replay(chosen, steps: list[tuple]) -> list[tuple]:
    reads: dict = {}
    now, seen = START, []
    for kind, sid, list_id, minutes, n in steps:
        now += timedelta(minutes=minutes)
        answer = step(chosen, reads, kind, sid, list_id, now, n)
        seen.append((kind, sid, list_id, answer, held(chosen, kind, sid, list_id, now)))
    return seen


def _on_both(monkeypatch, replay_on) -> tuple:
    use_fewer_shards(monkeypatch, 2)  # people share partitions: pages hold several of them
    for list_id in LISTS:
        lists.create_list(list_id, list_id, sunset={**POLICY, "min_sends": 2})
    memory = MemorySunsetStore()
    for list_id in LISTS:
        memory.consent.add_list(list_id, list_id)
    with store.use(consent=memory.consent, sunset=memory):
        in_memory = replay_on(memory)
    consent, dynamodb = dynamodb_stores()
    with store.use(consent=consent, sunset=dynamodb):
        in_dynamodb = replay_on(dynamodb)
    return in_memory, in_dynamodb


@pytest.mark.parametrize("seed", [3])
def test_memory_and_dynamodb_agree_step_by_step_on_a_long_sunset_history(aws, monkeypatch, seed):
    steps = history(seed)
    in_memory, in_dynamodb = _on_both(monkeypatch, lambda chosen: replay(chosen, steps))
    for number, (mine, theirs) in enumerate(zip(in_memory, in_dynamodb, strict=True)):
        assert mine == theirs, f"step {number}: {mine[:3]}"
    steps_of_the_job = [answer for kind, _, _, answer, _ in in_memory if kind in STEPS_OF_THE_JOB]
    # A history that did things: clock steps written and refused, people unsubscribed by the job.
    assert steps_of_the_job.count(True) >= 10 and steps_of_the_job.count(False) >= 10
    assert any(kind == "final" and answer is True for kind, _, _, answer, _ in in_memory)
    assert any(kind == "reminded" and answer is True for kind, _, _, answer, _ in in_memory)


def test_daily_runs_of_the_job_end_the_same_on_memory_and_dynamodb(aws, monkeypatch):
    """The job end to end, on moto too: twelve days of daily runs between joins, sends,
    engagement and a person's own unsubscribe, every worker at its own time."""

    def three_weeks(chosen) -> tuple:
        sim = Simulation(
            START,
            scan_delay=lambda now, shard: timedelta(minutes=30 * shard),
            act_delay=lambda now, shard: timedelta(hours=1, minutes=20 * shard),
        )
        rng = random.Random(11)
        for number in range(10):
            sid, list_id, joined = f"p{number}", LISTS[number % 2], START + timedelta(hours=5 * number)
            due = joined + timedelta(days=rng.randrange(1, 8))
            sim.at(
                joined,
                lambda s=sid, lst=list_id, j=joined, d=due: subscribers.subscribe(
                    s, f"{s}@x.test", lst, AuditContext(Source.IMPORT), j, d
                ),
            )
            for m in range(3):
                sent = joined + timedelta(hours=m + 1)
                sim.at(sent, lambda s=sid, lst=list_id, m=m, t=sent: chosen.count_send(s, lst, f"{s}-{m}", t))
            if number % 3 == 0:
                engaged = joined + timedelta(days=rng.randrange(2, 12))
                sim.at(
                    engaged,
                    lambda s=sid, lst=list_id, t=engaged: subscribers.record_engagement(
                        s, lst, t, t + timedelta(days=3)
                    ),
                )
            if number == 4:
                left = START + timedelta(days=9, hours=2)
                sim.at(
                    left,
                    lambda s=sid, lst=list_id, t=left: subscribers.unsubscribe(
                        s, lst, AuditContext(Source.ONE_CLICK), t
                    ),
                )
        sim.daily_runs(START, DAYS)
        sim.run_until(START + timedelta(days=DAYS))
        reports = [sunset_job.report(chosen.get_run(run_id)) for run_id in sim.run_ids]
        for report in reports:
            report.pop("run_id")  # random
        emails = [(at, r.subscriber_id, r.lists) for at, r in sim.outbox.sent]
        consent = store.consent_store()
        people = {f"p{n}": [replace(s, last_event=None) for s in consent.everything(f"p{n}")[1]] for n in range(10)}
        return reports, emails, people, chosen.get_cursor()

    in_memory, in_dynamodb = _on_both(monkeypatch, three_weeks)
    assert in_memory == in_dynamodb
    reports, emails, people, _ = in_memory
    assert len(reports) == DAYS and all(r["status"] == "done" for r in reports)
    totals = {name: sum(r["outcomes"][name] for r in reports) for name in ("emailed", "unsubscribed", "rescheduled")}
    assert emails and all(totals.values()), totals
