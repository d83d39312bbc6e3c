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
