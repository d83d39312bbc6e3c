"""The sunset job's typed records: a candidate survives the trip through a run's chunk (written by
the scan worker, read back by the act worker, maybe a release later) unchanged."""

from datetime import UTC, datetime

from chalicelib.domain.sunset import Step, SunsetState
from chalicelib.sunset.job import Due


def test_a_candidate_reads_back_from_its_chunk_as_it_was_written():
    pending = Due("s1", "news", Step.UNSUBSCRIBE, "2027-07-01#03", SunsetState.PENDING, "a@example.com", "2027-06-17")
    fresh = Due("s2", "news", Step.REMIND, "2027-07-01#07", None, None, None)
    for record in (pending, fresh):
        assert Due.from_chunk(record.as_chunk()) == record
    # The chunk is JSON: plain strings, the keys the chunks in flight already hold.
    assert pending.as_chunk() == {
        "sid": "s1",
        "list": "news",
        "step": "unsubscribe",
        "due": "2027-07-01#03",
        "state": "pending",
        "email": "a@example.com",
        "reminded": "2027-06-17",
    }
    assert type(pending.as_chunk()["step"]) is str


def test_a_candidate_knows_its_due_day_its_reminder_day_and_the_clock_it_read():
    record = Due("s1", "news", Step.UNSUBSCRIBE, "2027-07-01#03", SunsetState.PENDING, None, "2027-06-17")
    assert record.due_day == "2027-07-01"
    assert record.reminded_on == datetime(2027, 6, 17, tzinfo=UTC)
    assert (record.clock.due, record.clock.state) == ("2027-07-01#03", SunsetState.PENDING)


def test_a_queue_message_reads_back_as_it_was_sent_continuations_included():
    from chalicelib.sunset.job import Phase, Work

    fresh = Work("r1", Phase.SCAN, 3)
    scan_rest = Work("r1", Phase.SCAN, 3, day=2, last_key={"pk": "x"}, chunk=4)
    scan_rest_of_a_day = Work("r1", Phase.SCAN, 3, day=1, last_key=None, chunk=0)
    act_rest = Work("r1", Phase.ACT, 5, person=17)
    for work in (fresh, scan_rest, scan_rest_of_a_day, act_rest):
        assert Work.read(work.as_message()) == work
    assert fresh.as_message() == {"run_id": "r1", "phase": "scan", "shard": 3}
    assert scan_rest_of_a_day.as_message() == {
        "run_id": "r1",
        "phase": "scan",
        "shard": 3,
        "day": 1,
        "last_key": None,
        "chunk": 0,
    }
    assert act_rest.as_message() == {"run_id": "r1", "phase": "act", "shard": 5, "person": 17}
