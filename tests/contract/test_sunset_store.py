"""The sunset job's storage contract: each test runs on the in-memory store and on moto's
DynamoDB (`sunset_backends`). Runs are created once and count each shard once, chunks are kept
per shard in order, the due index pages alike, each clock step refuses exactly when its
preconditions no longer hold (and then moves no brake counter), and sends are counted once."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import StorageUnavailable
from chalicelib.domain import sunset
from chalicelib.domain.consent import AuditContext, Source
from chalicelib.domain.sunset import Clock, SunsetState
from chalicelib.storage import store, subscribers
from tests.contract import sunset_backends
from tests.integration.sunset_simulation import create_list, use_fewer_shards

NOW = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
DAY = "2027-03-01"
sunset_store = sunset_backends.sunset_store  # the fixture: each test on both backends


def test_a_run_is_created_once_and_counts_each_shard_once(sunset_store):
    run = sunset_store.create_run("r1", [DAY], 3, False, NOW)
    assert (run.run_id, run.status, run.is_dry_run, run.days, run.shards, run.started_at) == (
        "r1",
        "scanning",
        False,
        [DAY],
        3,
        NOW,
    )
    with pytest.raises(StorageUnavailable):
        sunset_store.create_run("r1", [DAY], 3, True, NOW)
    assert sunset_store.get_run("r2") is None
    assert [sunset_store.finish_phase("r1", "scanned", shard) for shard in (0, 0, 2, 1, 2)] == [1, None, 2, 3, None]
    assert sunset_store.finish_phase("r1", "acted", 2) == 1
    sunset_store.add_outcomes("r1", {"found": 3, "kept": 0, "not_an_outcome": 5})
    sunset_store.add_outcomes("r1", {"found": 2, "emailed": 1})
    sunset_store.update_run("r1", status="acting", sample=[{"subscriber_id": "s1", "step": "remind"}])
    sunset_store.update_run("r1", braked_lists={"news"})
    sunset_store.add_left_days("r1", {"2027-02-27"})
    sunset_store.add_left_days("r1", set())
    sunset_store.add_left_days("r1", {"2027-02-28", "2027-02-27"})
    sunset_store.update_run("r1", status="done", finished_at=NOW + timedelta(hours=2))
    run = sunset_store.get_run("r1")
    assert (run.status, run.outcomes, run.braked_lists, run.left_days, run.finished_at) == (
        "done",
        {"found": 5, "emailed": 1},
        {"news"},
        {"2027-02-27", "2027-02-28"},
        NOW + timedelta(hours=2),
    )
    assert run.sample == [{"subscriber_id": "s1", "step": "remind"}]
    sunset_store.create_run("r0", [DAY], 1, True, NOW)
    sunset_store.create_run("r2", ["2027-02-28", DAY], 1, False, NOW)
    assert [r.run_id for r in sunset_store.recent_runs(2)] == ["r2", "r1"]
    assert [(r.run_id, r.is_dry_run, r.days) for r in sunset_store.recent_runs()] == [
        ("r2", False, ["2027-02-28", DAY]),
        ("r1", False, [DAY]),
        ("r0", True, [DAY]),
    ]


def test_list_counts_add_up_per_list(sunset_store):
    sunset_store.add_list_counts("r1", "news", {"remind": 2})
    sunset_store.add_list_counts("r1", "news", {"remind": 1, "unsubscribe": 3, "unsubscribe_before_7d": 1})
    sunset_store.add_list_counts("r1", "alpha", {})
    sunset_store.add_list_counts("r2", "news", {"remind": 9})
    zero = {"remind": 0, "unsubscribe": 0, "unsubscribe_before_7d": 0, "unsubscribe_before_30d": 0}
    assert sunset_store.list_counts("r1") == {
        "alpha": zero,
        "news": {**zero, "remind": 3, "unsubscribe": 3, "unsubscribe_before_7d": 1},
    }
    assert sunset_store.list_counts("r3") == {}


def test_chunks_are_kept_per_run_and_shard_in_order_until_deleted(sunset_store):
    sunset_store.save_chunk("r1", 1, 1, [{"sid": "b"}], NOW)
    sunset_store.save_chunk("r1", 1, 0, [{"sid": "a"}, {"sid": "c"}], NOW)
    sunset_store.save_chunk("r1", 11, 0, [{"sid": "other shard"}], NOW)
    sunset_store.save_chunk("r2", 1, 0, [{"sid": "other run"}], NOW)
    chunks = sunset_store.chunks("r1", 1)
    assert [(c.number, c.candidates) for c in chunks] == [(0, [{"sid": "a"}, {"sid": "c"}]), (1, [{"sid": "b"}])]
    sunset_store.delete_chunk(chunks[0])
    sunset_store.delete_chunk(chunks[0])  # a redelivered message deletes it again: nothing happens
    sunset_store.save_chunk("r1", 1, 1, [{"sid": "b2"}], NOW)  # a continuation writes it again
    assert [(c.number, c.candidates) for c in sunset_store.chunks("r1", 1)] == [(1, [{"sid": "b2"}])]
    assert sunset_store.chunks("r1", 2) == []


def test_the_cursor_holds_the_last_day_set(sunset_store):
    assert sunset_store.get_cursor() is None
    sunset_store.set_cursor(DAY)
    sunset_store.set_cursor("2027-02-27")
    assert sunset_store.get_cursor() == "2027-02-27"


def _join(sid: str, list_id: str, due: datetime, at: datetime = NOW) -> str:
    return subscribers.subscribe(sid, f"{sid}@example.com", list_id, AuditContext(Source.API), at, sunset_due=due)


def _pages(store_, day: str, shard: int, page_size: int) -> list[tuple[list[tuple], bool]]:
    pages, last_key = [], None
    while True:
        items, last_key = store_.due_page(day, shard, last_key, page_size)
        pages.append(([(i.subscriber_id, i.list_id) for i in items], last_key is not None))
        if last_key is None:
            return pages


def test_the_due_index_pages_by_subscriber_then_list_and_holds_only_those_receiving(sunset_store, monkeypatch):
    use_fewer_shards(monkeypatch, 1)
    for list_id in ("news", "promo"):
        create_list(list_id, list_id)
    due = datetime(2027, 3, 8, 5, tzinfo=UTC)
    for sid in ("s4", "s2", "s1", "s3", "s5"):
        _join(sid, "news", due)
    _join("s3", "promo", due)
    _join("s6", "promo", due + timedelta(days=1))
    subscribers.unsubscribe("s5", "news", AuditContext(Source.ONE_CLICK), NOW)
    assert _pages(sunset_store, "2027-03-08", 0, 2) == [
        ([("s1", "news"), ("s2", "news")], True),
        ([("s3", "news"), ("s3", "promo")], True),
        ([("s4", "news")], False),
    ]
    # The key to resume after is the last item's keys (a continuation message carries it as JSON).
    page, last_key = sunset_store.due_page("2027-03-08", 0, None, 2)
    assert last_key == {"pk": {"S": "s2"}, "sk": {"S": "LIST#news"}, "sunset_due": {"S": "2027-03-08#00"}}
    assert [i.subscriber_id for i in sunset_store.due_page("2027-03-08", 0, last_key, 1)[0]] == ["s3"]
    assert _pages(sunset_store, "2027-03-08", 0, 5) == [
        ([("s1", "news"), ("s2", "news"), ("s3", "news"), ("s3", "promo"), ("s4", "news")], False)
    ]
    assert _pages(sunset_store, "2027-03-09", 0, 1) == [([("s6", "promo")], False)]
    assert _pages(sunset_store, "2027-03-10", 0, 1) == [([], False)]
    subscribers.pause("s1", "news", due + timedelta(days=30), AuditContext(Source.PAGE), NOW)
    assert sunset_store.count_send("s3", "news", "m1", NOW) == "counted"
    assert sunset_store.count_send("s3", "news", "m2", NOW) == "counted"
    [s1, _, s3] = sunset_store.due_page("2027-03-08", 0, None, 3)[0]
    assert (s1.status, s1.sends_since_engaged, s1.email, s1.subscribed_at) == ("paused", 0, "s1@example.com", NOW)
    assert (s3.status, s3.sends_since_engaged, s3.sunset_due, s3.sunset_state) == ("active", 2, "2027-03-08#00", None)


def test_sends_are_counted_once_per_message_and_only_while_receiving(sunset_store):
    create_list("news", "News")
    _join("s1", "news", NOW + timedelta(days=7))
    assert sunset_store.count_send("s1", "news", "m1", NOW) == "counted"
    assert sunset_store.count_send("s1", "news", "m1", NOW) == "duplicate"
    assert sunset_store.count_send("s2", "news", "m2", NOW) == "not_subscribed"
    subscribers.unsubscribe("s1", "news", AuditContext(Source.ONE_CLICK), NOW)
    assert sunset_store.count_send("s1", "news", "m3", NOW) == "not_subscribed"
    assert sunset_store.count_send("s1", "news", "m1", NOW) == "duplicate"


def _read(sid: str, list_id: str) -> Clock:
    """The clock as the job reads it."""
    state = store.consent_store().subscription(sid, list_id)
    return Clock(sid, list_id, state.sunset_due, SunsetState(state.sunset_state) if state.sunset_state else None)


def _acted(store_, list_id: str) -> list[tuple]:
    return [(a.day, a.kind, a.reminded_on, a.n) for a in store_.acted_between(list_id, NOW, NOW + timedelta(days=30))]


def test_each_clock_step_refuses_exactly_when_its_preconditions_no_longer_hold(sunset_store):
    create_list("news", "News")
    due = NOW + timedelta(days=7)
    _join("s1", "news", due)
    _join("s2", "news", due)
    read = _read("s1", "news")
    assert read.due == subscribers.due_key(due, "s1") and read.state is None

    # Rescheduled only as read: an engagement since moved the clock.
    subscribers.record_engagement("s1", "news", NOW + timedelta(hours=1), due + timedelta(days=1))
    assert not sunset_store.commit_clock(sunset.plan_reschedule(read, due + timedelta(days=14)))
    read = _read("s1", "news")
    assert sunset_store.commit_clock(sunset.plan_reschedule(read, due + timedelta(days=3)))
    assert _read("s1", "news").due == subscribers.due_key(due + timedelta(days=3), "s1")

    # Marked pending once; a second worker with the same read is refused.
    read, at = _read("s1", "news"), due + timedelta(days=3)
    assert sunset_store.commit_clock(sunset.plan_mark_pending(read, at, at - timedelta(minutes=15)))
    assert not sunset_store.commit_clock(sunset.plan_mark_pending(read, at, at - timedelta(minutes=15)))
    pending = _read("s1", "news")
    assert pending.state == SunsetState.PENDING and pending.due == read.due
    # Read as pending: taken over only when marked before `stale_before`.
    later = at + timedelta(minutes=5)
    assert not sunset_store.commit_clock(sunset.plan_mark_pending(pending, later, later - timedelta(minutes=15)))
    later = at + timedelta(minutes=20)
    assert sunset_store.commit_clock(sunset.plan_mark_pending(pending, later, later - timedelta(minutes=15)))

    # Reminded once, counted once; then neither released nor reminded again.
    assert _acted(sunset_store, "news") == []
    reminded = sunset.plan_mark_reminded(pending, later, later + timedelta(days=3), NOW + timedelta(days=10))
    assert sunset_store.commit_clock(reminded)
    assert not sunset_store.commit_clock(reminded)
    assert not sunset_store.commit_clock(sunset.plan_release_pending(pending, later + timedelta(days=1)))
    assert _acted(sunset_store, "news") == [("2027-03-11", "reminded", None, 1)]
    state = store.consent_store().subscription("s1", "news")
    assert state.reminded and state.sunset_due == subscribers.due_key(later + timedelta(days=3), "s1")

    # A pending mark released: back to active, due again; a released mark is not released twice.
    read2 = _read("s2", "news")
    assert sunset_store.commit_clock(sunset.plan_mark_pending(read2, at, at))
    release = sunset.plan_release_pending(read2, at + timedelta(days=1))
    assert sunset_store.commit_clock(release) and not sunset_store.commit_clock(release)
    assert _read("s2", "news") == Clock("s2", "news", subscribers.due_key(at + timedelta(days=1), "s2"), None)

    # Not active: never marked pending.
    subscribers.pause("s2", "news", at + timedelta(days=30), AuditContext(Source.PAGE), at)
    assert not sunset_store.commit_clock(sunset.plan_mark_pending(_read("s2", "news"), at, at))
    assert _acted(sunset_store, "news") == [("2027-03-11", "reminded", None, 1)]


def _remind(store_, sid: str, list_id: str, at: datetime) -> None:
    pending = sunset.plan_mark_pending(_read(sid, list_id), at, at)
    assert store_.commit_clock(pending)
    assert store_.commit_clock(sunset.plan_mark_reminded(_read(sid, list_id), at, at + timedelta(days=3), at))


def test_the_final_unsubscribe_commits_with_its_brake_count_once(sunset_store):
    create_list("news", "News")
    _join("s1", "news", NOW + timedelta(days=7))
    _join("s2", "news", NOW + timedelta(days=7))
    _join("s3", "news", NOW + timedelta(days=7))
    reminded_on, day = NOW - timedelta(days=4), NOW + timedelta(days=12)
    before_reminder = store.consent_store().subscription("s3", "news")
    for sid in ("s1", "s2", "s3"):
        _remind(sunset_store, sid, "news", reminded_on)
    assert _acted(sunset_store, "news") == []  # counted on the day of the reminder, before NOW
    # Read before the reminder: the clock moved since.
    plan = sunset.plan_final_unsubscribe(before_reminder, day, day, None)
    assert not sunset_store.commit_sunset_unsubscribe("s3", "news", plan, day)
    as_read = store.consent_store().subscription("s1", "news")
    plan = sunset.plan_final_unsubscribe(as_read, day, day, reminded_on)
    assert sunset_store.commit_sunset_unsubscribe("s1", "news", plan, day)
    # The same plan again (a retried write): its event exists, it landed once and counts once.
    assert sunset_store.commit_sunset_unsubscribe("s1", "news", plan, day)
    # Another plan from the same read (another worker): refused.
    other = sunset.plan_final_unsubscribe(as_read, day, day, reminded_on)
    assert not sunset_store.commit_sunset_unsubscribe("s1", "news", other, day)
    again = sunset.plan_final_unsubscribe(store.consent_store().subscription("s1", "news"), day, day, reminded_on)
    assert not sunset_store.commit_sunset_unsubscribe("s1", "news", again, day)  # changes nothing
    assert _acted(sunset_store, "news") == [("2027-03-13", "unsubscribed", "2027-02-25", 1)]
    state = store.consent_store().subscription("s1", "news")
    assert (state.status, state.sunset_due, state.sunset_state) == ("unsubscribed", None, None)
    assert store.consent_store().members("news") == 2
    assert [(r.action, r.source) for r in store.consent_store().trail("s1")][-1] == ("unsubscribe", "sunset")

    # Left by their own choice since the read: refused, counts nothing.
    as_read = store.consent_store().subscription("s2", "news")
    subscribers.unsubscribe("s2", "news", AuditContext(Source.ONE_CLICK), day)
    plan = sunset.plan_final_unsubscribe(as_read, day, day, None)
    assert not sunset_store.commit_sunset_unsubscribe("s2", "news", plan, day)
    assert _acted(sunset_store, "news") == [("2027-03-13", "unsubscribed", "2027-02-25", 1)]
    assert store.consent_store().members("news") == 1


def test_counting_on_a_run_that_does_not_exist_makes_a_bare_one(sunset_store):
    """UpdateItem makes the item it updates: a message for a run whose report is gone leaves a
    bare run (no status, so no worker acts on it) on both."""
    sunset_store.add_outcomes("gone", {"found": 2})
    assert sunset_store.finish_phase("gone", "scanned", 1) == 1
    run = sunset_store.get_run("gone")
    assert (run.status, run.is_dry_run, run.days, run.shards, run.started_at, run.outcomes) == (
        None,
        False,
        [],
        0,
        None,
        {"found": 2},
    )
