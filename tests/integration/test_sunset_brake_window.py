"""Issue 9.2: the brake must see a list that loses a little every day, not one run at a time.

Four weeks of daily runs on three lists of 100 with the default brakes (5% a run, 10% in 7
days, 20% in 30 days). None ever loses enough in one run to trip the per-run brake: "leaky"
loses 2% a day (broken tracking, say) and trips the 7-day brake, until an operator lifts it;
"slow" loses 1% a day and, its 7-day limit raised to 15%, trips the 30-day brake; "steady" loses
one member every four days and is never braked. On the in-memory store (tests/contract holds
it to DynamoDB's behaviour).
"""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.storage import lists, store, subscribers
from chalicelib.storage.subscribers import AuditContext
from chalicelib.sunset import job as sunset_job
from chalicelib.sunset.policy import DEFAULT_POLICY, parse_policy
from tests.integration.sunset_simulation import Simulation, create_list, on_memory, use_fewer_shards

START = datetime(2027, 3, 1, tzinfo=UTC)
DAYS = 29
POLICY = {"inactive_days": 7, "grace_days": 3, "min_sends": 0}  # the brakes: defaults
LIFTED_ON = 14  # the operator lifts leaky's brakes after a look (at noon)
DUE = {
    "leaky": [day for day in range(7, 31) for _ in range(2)],  # 2% of the list a day
    "slow": list(range(7, 31)),  # 1% a day
    "steady": list(range(7, 32, 4)),  # one every four days
}


def at(n: int, hour: int = 0, minute: int = 0) -> datetime:
    return START + timedelta(days=n, hours=hour, minutes=minute)


def members(sim: Simulation, list_id: str, due_on: list[int]) -> None:
    """100 members joining on day 0; one falls due (inactive since joining) on each day of
    `due_on`; the others' next due date lies after the simulation (as engagement leaves it)."""
    for i in range(100):
        sid, email, joined = f"{list_id[:4]}{i:03d}", f"{list_id}{i}@example.com", at(0, 0, i)
        due = at(due_on[i], (i * 5) % 24) if i < len(due_on) else START + timedelta(days=90)
        sim.at(
            joined,
            lambda s=sid, e=email, j=joined, d=due: subscribers.subscribe(
                s, e, list_id, AuditContext("import"), j, sunset_due=d
            ),
        )


@pytest.fixture
def brakes(monkeypatch):
    """The brakes reported: the SunsetBrakes metric and the warning's details."""
    seen = {"metric": [], "warning": []}
    real_count = sunset_job.count

    def count(name, **dimensions):
        if name == "SunsetBrakes" and "list_id" in dimensions:
            seen["metric"].append(dimensions["list_id"])
        real_count(name, **dimensions)

    monkeypatch.setattr(sunset_job, "count", count)
    monkeypatch.setattr(sunset_job.logger, "warning", lambda message, extra=None: seen["warning"].append(extra))
    return seen


@pytest.fixture
def memory(aws):
    with on_memory() as memory:
        yield memory


def test_lists_losing_a_little_every_day_trip_the_rolling_brakes_and_a_healthy_one_does_not(
    memory, monkeypatch, brakes
):
    use_fewer_shards(monkeypatch, 2)
    for list_id in DUE:
        create_list(
            list_id, list_id.title(), sunset={**POLICY, **({"max_share_7d": 0.15} if list_id == "slow" else {})}
        )
    sim = Simulation(
        START,
        scan_delay=lambda now, shard: timedelta(minutes=17 * shard),
        act_delay=lambda now, shard: timedelta(hours=2, minutes=23 * shard),
    )
    for list_id, due_on in DUE.items():
        members(sim, list_id, due_on)
    lifted = parse_policy({**POLICY, "max_share": 1, "max_share_7d": 1, "max_share_30d": 1}).as_dict()
    sim.at(at(LIFTED_ON, 12), lambda: lists.set_sunset_policy("leaky", lifted))
    sim.daily_runs(START, DAYS)
    sim.run_until(at(DAYS - 1, 23, 59))

    reports = [sunset_job.report(memory.get_run(run_id)) for run_id in sim.run_ids]
    braked = {list_id: [n for n, r in enumerate(reports) if list_id in r["braked_lists"]] for list_id in DUE}
    # Leaky: 2 reminders a day from day 7, their unsubscribes from day 10. No run moves more than
    # 4 of ~100 (under 5%), but on day 12 the last 7 days would act on 12 of 100.
    # Slow: on day 27 the last 30 days would act on 21 of 100. Steady: at most 6 in 30 days.
    assert braked == {"leaky": [12, 13, LIFTED_ON], "slow": [27, 28], "steady": []}
    assert brakes["metric"].count("leaky") == 3 and brakes["metric"].count("slow") == 2
    assert "steady" not in brakes["metric"]
    first_limit = {}
    for warning in brakes["warning"]:
        first_limit.setdefault(warning["list_id"], warning["limit"])
    # The first brake of each: its window (later runs pile up the subscribers left due).
    assert first_limit == {"leaky": "7d", "slow": "30d"}
    first = reports[12]["per_list"]["leaky"]
    assert first == {"remind": 2, "unsubscribe": 2} and DEFAULT_POLICY.max_share * 96 >= 4  # per run: fine
    assert reports[12]["outcomes"]["braked"] == 4  # acted on none of the list in that run

    emailed: dict[str, dict[str, list[int]]] = {}
    for sent_at, record in sim.outbox.sent:
        for list_id in record.lists:
            emailed.setdefault(list_id, {}).setdefault(record.subscriber_id, []).append((sent_at - START).days)
    # Braked, the list is left alone; its due subscribers wait, and go on the run after the lift.
    leaky = sorted(days for person in emailed["leaky"].values() for days in person)
    expected = sorted(due if due < 12 else max(due, LIFTED_ON + 1) for due in DUE["leaky"] if due < DAYS)
    assert leaky == expected and all(len(d) == 1 for d in emailed["leaky"].values())
    assert sorted(d for [d] in emailed["slow"].values()) == list(range(7, 27))
    assert sorted(d for [d] in emailed["steady"].values()) == [7, 11, 15, 19, 23, 27]
    assert store.consent_store().members("steady") == 100 - 5  # unsubscribed three days after their email
