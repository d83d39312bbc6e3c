"""Issue 9.1: the daily job must not lose people depending on the time of day.

Five weeks of daily runs on a short policy, every worker on its own clock, for people who
joined (or engaged, or clicked "keep") at every hour of the day: each is emailed on the day they
are due, once, and unsubscribed when the grace period ends unless they engaged; nobody stays
pending for ever. On the in-memory store (tests/contract holds it to DynamoDB's behaviour).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.storage import store, subscribers
from chalicelib.storage.subscribers import AuditContext
from chalicelib.sunset.engagement import next_due
from tests.helpers import engage, join
from tests.integration.sunset_simulation import Simulation, create_list, on_memory, use_fewer_shards

START = datetime(2027, 3, 1, tzinfo=UTC)  # after today: due dates are never clamped to the real clock
DAYS = 36
INACTIVE, GRACE = 7, 3
POLICY = {
    "inactive_days": INACTIVE,
    "grace_days": GRACE,
    "min_sends": 0,
    "max_share": 1.0,
    "max_share_7d": 1.0,
    "max_share_30d": 1.0,
}


def day(n: int) -> date:
    return (START + timedelta(days=n)).date()


def at(n: int, hour: int, minute: int = 0) -> datetime:
    return START + timedelta(days=n, hours=hour, minutes=minute)


def scan_delay(now: datetime, shard: int) -> timedelta:
    """Scan workers start between 03:00 and about 12:00, each shard at another time each day."""
    return timedelta(minutes=(shard * 97 + now.day * 53) % 540)


def act_delay(now: datetime, shard: int) -> timedelta:
    """Act workers start 1 to 6 hours after the last scan, each shard at another time."""
    return timedelta(minutes=60 + (shard * 61 + now.day * 17) % 300)


def keep_click(sid: str, list_id: str, when: datetime) -> bool:
    """What `POST /u/{token}/keep` does, at the simulated time."""
    return subscribers.record_engagement(sid, list_id, when, next_due(list_id, when, when))


@pytest.fixture
def simulation(aws, monkeypatch):
    use_fewer_shards(monkeypatch)
    with on_memory():
        create_list("daily", "Daily", sunset=POLICY)
        sim = Simulation(START, scan_delay, act_delay)
        sim.daily_runs(START, DAYS)
        yield sim


def test_every_due_person_is_emailed_on_their_day_once_and_unsubscribed_after_the_grace_period(simulation):
    expected: dict[str, tuple[list[date], date | None]] = {}  # sid -> (email days, unsubscribe day)

    def schedule_join(sid: str, when: datetime, review_next_run: bool) -> None:
        email = f"{sid}@example.com"
        if review_next_run:  # due at once (what imports wrote before issue 16.11): "review on the next run"
            simulation.at(
                when, lambda: subscribers.subscribe(sid, email, "daily", AuditContext("import"), when, sunset_due=when)
            )
        else:  # the precise first due date
            simulation.at(when, lambda: join(sid, email, "daily", AuditContext("api"), when))

    for hour in range(24):
        minute = (hour * 7) % 60
        # Joined on day 0 at every hour, with a precise due date: emailed on day 7, gone on day 10.
        sid = f"a{hour:02d}"
        schedule_join(sid, at(0, hour, minute), review_next_run=False)
        expected[sid] = ([day(7)], day(10))
        # Joined on day 1 at every hour, "review on the next run" (often written after that day's scan).
        sid = f"b{hour:02d}"
        schedule_join(sid, at(1, hour, minute), review_next_run=True)
        expected[sid] = ([day(8)], day(11))
        # Joined on day 2, engaged on day 5 at another hour: the clock restarts from the engagement.
        sid = f"c{hour:02d}"
        schedule_join(sid, at(2, hour, minute), review_next_run=False)
        simulation.at(at(5, (hour + 7) % 24, 45), lambda s=sid, h=hour: engage(s, "daily", at(5, (h + 7) % 24, 45)))
        expected[sid] = ([day(12)], day(15))
        # Joined on day 3, emailed on day 10, clicked "keep" on day 11: emailed again on day 18, gone on day 21.
        sid = f"d{hour:02d}"
        schedule_join(sid, at(3, hour, minute), review_next_run=True)
        keep_at = at(11, (hour * 5) % 24, 10)
        simulation.at(keep_at, lambda s=sid, k=keep_at: keep_click(s, "daily", k))
        expected[sid] = ([day(10), day(18)], day(21))
        # Joined on day 20, emailed on day 27, clicked "keep" on day 29: still active at the end.
        sid = f"e{hour:02d}"
        schedule_join(sid, at(20, hour, minute), review_next_run=hour % 2 == 0)
        keep_at = at(29, (hour * 11) % 24, 20)
        simulation.at(keep_at, lambda s=sid, k=keep_at: keep_click(s, "daily", k))
        expected[sid] = ([day(27)], None)

    last_day = DAYS - 1
    simulation.run_until(at(last_day, 23, 59))

    emailed: dict[str, list[date]] = {}
    for sent_at, record in simulation.outbox.sent:
        assert record.lists == ("daily",)
        emailed.setdefault(record.subscriber_id, []).append(sent_at.date())
    consent = store.consent_store()
    wrong = {}
    for sid, (email_days, unsubscribe_day) in expected.items():
        unsubscribed = [e.at.date() for e in consent.trail(sid) if e.action == "unsubscribe" and e.source == "sunset"]
        got = (sorted(emailed.get(sid, [])), unsubscribed)
        if got != (email_days, [unsubscribe_day] if unsubscribe_day else []):
            wrong[sid] = {"emailed": got[0], "unsubscribed": got[1], "expected": (email_days, unsubscribe_day)}
    assert wrong == {}

    # Nobody is left pending (or due) on a day the job has already passed.
    for sid in expected:
        s = consent.subscription(sid, "daily")
        if s.status == "unsubscribed":
            assert s.sunset_due is None
            continue
        assert s.sunset_state is None and s.sunset_due.split("#")[0] > f"{day(last_day)}", (sid, s.sunset_due)
    assert consent.members("daily") == 24  # the e group
