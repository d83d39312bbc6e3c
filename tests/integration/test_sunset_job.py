"""The sunset job's state machine: remind, keep, unsubscribe; concurrent clicks, repeated and
overlapping runs, the safety brake, dry runs, and a run resumed after a stop. On the in-memory
store (tests/contract holds it to DynamoDB's behaviour, and runs the job end to end on moto)."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest

from chalicelib.domain import sunset
from chalicelib.domain.sunset import Clock, SunsetState
from chalicelib.storage import lists, store
from chalicelib.storage.subscribers import AuditContext
from chalicelib.sunset import job as sunset_job
from chalicelib.sunset.policy import parse_policy
from tests.helpers import engage, join
from tests.integration.sunset_simulation import create_list, on_memory, use_fewer_shards

JOINED = datetime(2027, 1, 1, tzinfo=UTC)  # after today: due dates are never set in the past
DAY_181 = JOINED + timedelta(days=181)
NO_BRAKE = {"max_share": 1.0, "max_share_7d": 1.0, "max_share_30d": 1.0}


class Outbox:
    def __init__(self):
        self.sent: list[dict] = []

    def __call__(self, reminder):
        # As the job's reminders were once sent: a dict of the person, the address and the lists.
        self.sent.append({"sid": reminder.subscriber_id, "email": reminder.email, "lists": list(reminder.lists)})


@pytest.fixture
def outbox():
    return Outbox()


@pytest.fixture
def memory(aws):
    with on_memory() as memory:
        yield memory


def people(n, list_id="newsletter", sends=10, prefix="s"):
    ids = [f"{prefix}{list_id[:3]}{i:04d}" for i in range(n)]
    for sid in ids:
        join(sid, f"{sid}@example.com", list_id, AuditContext("import"), JOINED)
        for m in range(sends):
            store.sunset_store().count_send(sid, list_id, f"{sid}-{m}", JOINED)
    return ids


@pytest.fixture
def newsletter(memory):
    create_list("newsletter", "Newsletter", sunset=NO_BRAKE)  # the brakes have their own tests
    return "newsletter"


def run(outbox, now, dry_run=False, remaining=lambda: 900_000):
    queue: list[dict] = []
    run_id = sunset_job.plan_run(queue.extend, now, dry_run)
    steps = 0
    while queue:
        sunset_job.work(queue.pop(0), queue.extend, remaining, outbox, now)
        steps += 1
    return sunset_job.report(store.sunset_store().get_run(run_id)), steps


def state(sid, list_id="newsletter"):
    s = store.consent_store().subscription(sid, list_id)
    return s.status, s.sunset_state


def test_inactive_subscribers_are_emailed_once_then_unsubscribed_after_the_grace_period(newsletter, outbox):
    inactive = people(2)
    report, _ = run(outbox, DAY_181)
    assert report["status"] == "done" and report["outcomes"]["emailed"] == 2
    assert sorted(r["sid"] for r in outbox.sent) == sorted(inactive)
    assert all(r["email"] == f"{r['sid']}@example.com" for r in outbox.sent)
    assert state(inactive[0]) == ("active", "pending")

    again, _ = run(outbox, DAY_181 + timedelta(days=1))
    assert len(outbox.sent) == 2 and again["outcomes"]["emailed"] == 0

    final, _ = run(outbox, DAY_181 + timedelta(days=15))
    assert final["outcomes"]["unsubscribed"] == 2 and len(outbox.sent) == 2
    assert state(inactive[0]) == ("unsubscribed", None)
    [event] = [e for e in store.consent_store().trail(inactive[0]) if e.action == "unsubscribe"]
    assert event.source == "sunset"
    assert store.consent_store().members("newsletter") == 0


def test_active_and_young_subscribers_are_left_alone(newsletter, outbox):
    engaged, young, few_sends = people(1, prefix="e"), [], people(1, sends=3, prefix="f")
    engage(engaged[0], "newsletter", JOINED + timedelta(days=100))
    join("syoung", "young@example.com", "newsletter", AuditContext("api"), JOINED + timedelta(days=100))
    young.append("syoung")
    report, _ = run(outbox, DAY_181)
    assert outbox.sent == [] and report["outcomes"]["emailed"] == 0
    assert report["outcomes"]["rescheduled"] == 1  # the one with too few sends is looked at again later
    assert store.consent_store().subscription(few_sends[0], "newsletter").sunset_due > f"{DAY_181:%Y-%m-%d}"


def test_a_click_during_the_grace_period_keeps_the_subscriber(newsletter, outbox):
    [sid] = people(1)
    run(outbox, DAY_181)
    engage(sid, "newsletter", DAY_181 + timedelta(days=3))
    report, _ = run(outbox, DAY_181 + timedelta(days=15))
    assert state(sid) == ("active", None) and report["outcomes"]["unsubscribed"] == 0


def test_a_click_between_the_scan_and_the_act_wins(newsletter, outbox):
    [sid] = people(1)
    queue: list[dict] = []
    sunset_job.plan_run(queue.extend, DAY_181)
    while queue and queue[0]["phase"] == "scan":
        sunset_job.work(queue.pop(0), queue.extend, lambda: 900_000, outbox, DAY_181)
    engage(sid, "newsletter", DAY_181)  # the click lands while the job runs
    while queue:
        sunset_job.work(queue.pop(0), queue.extend, lambda: 900_000, outbox, DAY_181)
    assert outbox.sent == [] and state(sid) == ("active", None)


def test_overlapping_runs_send_one_email(newsletter, outbox):
    people(3)
    first, second = [], []
    sunset_job.plan_run(first.extend, DAY_181)
    sunset_job.plan_run(second.extend, DAY_181)
    while first or second:  # interleave the two runs message by message
        for queue in (first, second):
            if queue:
                sunset_job.work(queue.pop(0), queue.extend, lambda: 900_000, outbox, DAY_181)
    assert len(outbox.sent) == 3


def test_the_safety_brake_stops_a_run_that_would_move_too_much_of_a_list(memory, outbox):
    create_list("newsletter", "Newsletter")  # default brake: 5% of the list
    inactive = people(3)
    join("sfresh", "fresh@example.com", "newsletter", AuditContext("api"), DAY_181)
    report, _ = run(outbox, DAY_181)
    assert outbox.sent == [] and report["braked_lists"] == ["newsletter"] and report["outcomes"]["braked"] == 3
    assert all(state(sid) == ("active", None) for sid in inactive)
    lists.set_sunset_policy("newsletter", parse_policy(NO_BRAKE).as_dict())
    report, _ = run(outbox, DAY_181 + timedelta(days=1))  # the braked ones are still due: found again
    assert report["outcomes"]["emailed"] == 3


def test_a_dry_run_counts_and_samples_but_changes_and_sends_nothing(newsletter, outbox):
    inactive = people(2)
    report, _ = run(outbox, DAY_181, dry_run=True)
    assert report["dry_run"] and report["per_list"] == {"newsletter": {"remind": 2, "unsubscribe": 0}}
    assert sorted(s["subscriber_id"] for s in report["sample"]) == sorted(inactive)
    assert outbox.sent == [] and all(state(sid) == ("active", None) for sid in inactive)


def test_a_run_stopped_for_time_continues_where_it_stopped(memory, newsletter, outbox, monkeypatch):
    monkeypatch.setattr(sunset_job, "CHUNK_SIZE", 2)
    monkeypatch.setattr(memory, "due_page", _small_pages(memory.due_page))
    people(7)
    budget = iter([900_000, 900_000, 1_000] * 100)  # every third check says time is nearly up
    report, steps = run(outbox, DAY_181, remaining=lambda: next(budget))
    assert report["status"] == "done" and report["outcomes"]["emailed"] == 7 and len(outbox.sent) == 7
    assert steps > 2 * 16  # continuation messages were sent and processed


def _small_pages(real):
    def page(day, shard, last_key, page_size=200):
        return real(day, shard, last_key, page_size=1)

    return page


def test_a_failed_email_releases_the_subscriber_for_a_later_run(newsletter):
    [sid] = people(1)

    def broken(record):
        raise ConnectionError("SES unavailable")

    report, _ = run(broken, DAY_181)
    assert report["outcomes"]["email_failed"] == 1 and state(sid) == ("active", None)
    outbox = Outbox()
    run(outbox, DAY_181 + timedelta(days=1))
    assert len(outbox.sent) == 1


def test_a_later_subscribe_reverses_a_sunset_unsubscribe(newsletter, outbox):
    [sid] = people(1)
    run(outbox, DAY_181)
    run(outbox, DAY_181 + timedelta(days=15))
    assert (
        join(
            sid, f"{sid}@example.com", "newsletter", AuditContext("api"), DAY_181 + timedelta(days=20), resubscribe=True
        )
        == "resubscribed"
    )
    assert state(sid) == ("active", None)


def test_one_email_per_person_per_run_names_every_list_at_stake(memory, outbox):
    for list_id in ("alpha", "beta", "gamma"):
        create_list(list_id, list_id.title(), sunset=NO_BRAKE)
    three = people(1, "alpha", prefix="x")[0]
    for list_id in ("beta", "gamma"):
        join(three, f"{three}@example.com", list_id, AuditContext("import"), JOINED)
        for m in range(10):
            memory.count_send(three, list_id, f"{three}-{list_id}-{m}", JOINED)
    one = people(1, "beta", prefix="y")[0]
    report, _ = run(outbox, DAY_181)
    assert sorted((r["sid"], tuple(r["lists"])) for r in outbox.sent) == sorted(
        [(three, ("alpha", "beta", "gamma")), (one, ("beta",))]
    )
    assert all(r["email"] == f"{r['sid']}@example.com" for r in outbox.sent)
    assert report["outcomes"]["emails_sent"] == 2 and report["outcomes"]["emailed"] == 4
    assert all(state(three, list_id) == ("active", "pending") for list_id in ("alpha", "beta", "gamma"))
    again, _ = run(outbox, DAY_181 + timedelta(days=1))
    assert len(outbox.sent) == 2 and again["outcomes"]["emails_sent"] == 0


def test_a_braked_list_is_left_out_of_the_person_s_email(memory, outbox):
    create_list("alpha", "Alpha", sunset=NO_BRAKE)
    create_list("beta", "Beta")  # default brakes: one inactive member of one is too many
    [sid] = people(1, "alpha")
    join(sid, f"{sid}@example.com", "beta", AuditContext("import"), JOINED)
    for m in range(10):
        memory.count_send(sid, "beta", f"{sid}-beta-{m}", JOINED)
    report, _ = run(outbox, DAY_181)
    assert [r["lists"] for r in outbox.sent] == [["alpha"]] and report["braked_lists"] == ["beta"]
    assert state(sid, "beta") == ("active", None)


def test_a_click_on_one_list_between_scan_and_act_leaves_it_out_of_the_email(memory, outbox):
    for list_id in ("alpha", "beta"):
        create_list(list_id, list_id.title(), sunset=NO_BRAKE)
    [sid] = people(1, "alpha")
    join(sid, f"{sid}@example.com", "beta", AuditContext("import"), JOINED)
    for m in range(10):
        memory.count_send(sid, "beta", f"{sid}-beta-{m}", JOINED)
    queue: list[dict] = []
    sunset_job.plan_run(queue.extend, DAY_181)
    while queue and queue[0]["phase"] == "scan":
        sunset_job.work(queue.pop(0), queue.extend, lambda: 900_000, outbox, DAY_181)
    engage(sid, "beta", DAY_181)  # the click lands while the job runs
    while queue:
        sunset_job.work(queue.pop(0), queue.extend, lambda: 900_000, outbox, DAY_181)
    assert [r["lists"] for r in outbox.sent] == [["alpha"]]
    assert state(sid, "alpha") == ("active", "pending") and state(sid, "beta") == ("active", None)


def test_a_pending_subscriber_marked_moments_ago_is_not_taken_over_by_another_run(newsletter, outbox):
    """A worker that marked someone pending may be sending right now: an overlapping run that
    reads them pending-but-not-reminded leaves them, and the cursor stays on their day."""
    [sid] = people(1)
    sub = store.consent_store().subscription(sid, "newsletter")
    clock = Clock(sid, "newsletter", sub.sunset_due, SunsetState(sub.sunset_state) if sub.sunset_state else None)
    assert store.sunset_store().commit_clock(
        sunset.plan_mark_pending(clock, DAY_181, DAY_181)
    )  # another worker, still sending
    report, _ = run(outbox, DAY_181 + timedelta(minutes=5))
    assert outbox.sent == [] and report["outcomes"]["changed_since_read"] == 1
    assert (
        store.sunset_store().get_cursor() == f"{store.consent_store().subscription(sid, 'newsletter').sunset_due[:10]}"
    )
    later, _ = run(outbox, DAY_181 + timedelta(days=1))  # that worker died: the next run sends it
    assert [r["sid"] for r in outbox.sent] == [sid] and later["outcomes"]["emailed"] == 1


class WorkerDied(BaseException):
    """The Lambda runtime stopping a worker (a timeout, out of memory): nothing after it runs."""


def _acted(list_id, day):
    return sorted((a.kind, a.reminded_on, a.n) for a in store.sunset_store().acted_between(list_id, day, day))


def test_brake_counts_survive_a_worker_that_dies_midway(memory, newsletter, monkeypatch):
    """Issue 16.13: what the brake counts is committed with each action, so a worker that dies
    after reminding someone (or unsubscribing them) has already counted them, and the redelivered
    message counts nobody twice."""
    use_fewer_shards(monkeypatch, 1)  # one act worker for the three of them
    people(3)
    sent: list[dict] = []
    died = []

    def dies_on_the_second_email(record):
        if len(sent) == 1 and not died:
            died.append(record)
            raise WorkerDied()
        sent.append(record)

    queue: list[dict] = []
    sunset_job.plan_run(queue.extend, DAY_181)
    with pytest.raises(WorkerDied):
        while queue:
            sunset_job.work(queue[0], queue.extend, lambda: 900_000, dies_on_the_second_email, DAY_181)
            queue.pop(0)
    assert len(sent) == 1
    assert _acted("newsletter", DAY_181) == [("reminded", None, 1)]
    while queue:  # SQS delivers the message again: the second person waits for a later run
        sunset_job.work(queue.pop(0), queue.extend, lambda: 900_000, dies_on_the_second_email, DAY_181)
    assert len(sent) == 2 and _acted("newsletter", DAY_181) == [("reminded", None, 2)]

    outbox = Outbox()
    run(outbox, DAY_181 + timedelta(days=1))  # the one left pending is emailed now
    assert len(outbox.sent) == 1 and _acted("newsletter", DAY_181 + timedelta(days=1)) == [("reminded", None, 1)]

    # After the grace period: the worker dies after the first unsubscribe.
    done = []
    real = memory.commit_sunset_unsubscribe

    def dies_after_one(*args, **kwargs):
        if done:
            raise WorkerDied()
        done.append(real(*args, **kwargs))
        return done[-1]

    later = DAY_181 + timedelta(days=14)  # the grace period of the two reminded on DAY_181 ends
    queue = []
    sunset_job.plan_run(queue.extend, later)
    with pytest.raises(WorkerDied), mock.patch.object(memory, "commit_sunset_unsubscribe", dies_after_one):
        while queue:
            sunset_job.work(queue[0], queue.extend, lambda: 900_000, outbox, later)
            queue.pop(0)
    assert done == [True]
    assert _acted("newsletter", later) == [("unsubscribed", f"{DAY_181:%Y-%m-%d}", 1)]
    while queue:
        sunset_job.work(queue.pop(0), queue.extend, lambda: 900_000, outbox, later)
    assert _acted("newsletter", later) == [("unsubscribed", f"{DAY_181:%Y-%m-%d}", 2)]
