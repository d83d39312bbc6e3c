"""The sunset job's clock-step planners, without AWS: each step's preconditions against what a
subscription holds by the time the step is written (an engagement, a choice or another worker in
between), its new clock, the brake counter it moves and what the run's report counts."""

from datetime import UTC, datetime, timedelta

from chalicelib.domain import consent
from chalicelib.domain import sunset as clock
from chalicelib.domain.sunset import (
    KEEP,
    REMOVE,
    Acted,
    BrakeCount,
    Clock,
    ClockItem,
    SunsetState,
    Tally,
    holds,
)

NOW = datetime(2027, 7, 1, 6, 30, tzinfo=UTC)
DAY = datetime(2027, 7, 1, tzinfo=UTC)  # the run's day
STALE = NOW - timedelta(minutes=15)
PENDING = SunsetState.PENDING
ACTIVE_READ = Clock("s1", "news", "2027-06-30#03")
PENDING_READ = Clock("s1", "news", "2027-06-30#03", PENDING)


def item(read: Clock = ACTIVE_READ, **changed) -> ClockItem:
    """The subscription as the job read it, with what changed since."""
    values = {"status": consent.ACTIVE, "due": read.due, "state": read.state} | changed
    return ClockItem(**values)


# Reschedule.


def test_a_reschedule_moves_the_due_date_only_while_the_clock_is_as_read():
    later = NOW + timedelta(days=14)
    plan = clock.plan_reschedule(ACTIVE_READ, later)
    assert plan.write == clock.ClockWrite(due=later)
    assert plan.brake is None and (plan.done, plan.not_done) == (Tally.RESCHEDULED, Tally.CHANGED_SINCE_READ)
    assert holds(plan.expect, ACTIVE_READ, item())
    assert not holds(plan.expect, ACTIVE_READ, item(due="2027-12-28#03"))  # engaged since: moved on
    assert not holds(plan.expect, ACTIVE_READ, item(state=PENDING))  # another run marked it


def test_a_reschedule_of_a_paused_subscription_needs_no_active_status():
    plan = clock.plan_reschedule(ACTIVE_READ, NOW + timedelta(days=180))
    assert holds(plan.expect, ACTIVE_READ, item(status=consent.PAUSED))


# Mark pending (before the email goes out).


def test_marking_pending_takes_an_active_clock_as_read():
    plan = clock.plan_mark_pending(ACTIVE_READ, NOW, STALE)
    assert plan.write == clock.ClockWrite(state=PENDING, pending_since=NOW)
    assert plan.write.due is KEEP and plan.write.reminder_sent_at is KEEP
    assert plan.done is None and plan.brake is None  # counted once the email is sent
    assert holds(plan.expect, ACTIVE_READ, item())
    assert not holds(plan.expect, ACTIVE_READ, item(status=consent.UNSUBSCRIBED))  # left since the scan
    assert not holds(plan.expect, ACTIVE_READ, item(due="2028-01-01#03"))  # engaged since the scan
    assert not holds(plan.expect, ACTIVE_READ, item(state=PENDING, pending_since=NOW))  # another run's now


def test_a_failed_mark_of_an_active_clock_is_kept():
    assert clock.plan_mark_pending(ACTIVE_READ, NOW, STALE).not_done == Tally.KEPT


def test_a_pending_mark_is_taken_over_only_when_stale_and_never_reminded():
    plan = clock.plan_mark_pending(PENDING_READ, NOW, STALE)
    assert plan.write == clock.ClockWrite(pending_since=NOW)  # the state is pending already
    assert plan.not_done == Tally.CHANGED_SINCE_READ  # another worker may be sending right now
    assert holds(plan.expect, PENDING_READ, item(PENDING_READ, pending_since=STALE - timedelta(seconds=1)))
    assert holds(plan.expect, PENDING_READ, item(PENDING_READ, pending_since=None))
    assert not holds(plan.expect, PENDING_READ, item(PENDING_READ, pending_since=STALE))
    assert not holds(plan.expect, PENDING_READ, item(PENDING_READ, pending_since=NOW - timedelta(minutes=1)))
    old = STALE - timedelta(hours=1)
    assert not holds(plan.expect, PENDING_READ, item(PENDING_READ, pending_since=old, reminded=True))


# Mark reminded (the email went out).


def test_marking_reminded_starts_the_grace_period_and_counts_the_reminder_for_the_brake():
    unsubscribe_on = NOW + timedelta(days=14)
    plan = clock.plan_mark_reminded(PENDING_READ, NOW, unsubscribe_on, DAY)
    assert plan.write == clock.ClockWrite(reminder_sent_at=NOW, due=unsubscribe_on)
    assert plan.brake == BrakeCount(Acted.REMINDED, DAY)
    assert plan.done == plan.not_done == Tally.EMAILED  # the email went out either way


def test_marking_reminded_needs_a_pending_mark_not_yet_reminded_whatever_its_due_date():
    plan = clock.plan_mark_reminded(PENDING_READ, NOW, NOW + timedelta(days=14), DAY)
    assert holds(plan.expect, PENDING_READ, item(PENDING_READ, pending_since=NOW))
    assert holds(plan.expect, PENDING_READ, item(PENDING_READ, due="2027-07-02#03"))  # not compared
    assert not holds(plan.expect, PENDING_READ, item(PENDING_READ, state=None))  # kept meanwhile
    assert not holds(plan.expect, PENDING_READ, item(PENDING_READ, reminded=True))  # a second worker


# Release (the email failed).


def test_a_release_returns_a_pending_mark_to_active_and_retries_later():
    retry_on = NOW + timedelta(days=1)
    plan = clock.plan_release_pending(PENDING_READ, retry_on)
    assert plan.write == clock.ClockWrite(state=REMOVE, pending_since=REMOVE, due=retry_on)
    assert plan.write.reminder_sent_at is KEEP and plan.brake is None
    assert plan.done == plan.not_done == Tally.EMAIL_FAILED
    assert holds(plan.expect, PENDING_READ, item(PENDING_READ, pending_since=NOW))
    assert not holds(plan.expect, PENDING_READ, item(PENDING_READ, reminded=True))  # another worker's email
    assert not holds(plan.expect, PENDING_READ, item(PENDING_READ, state=None))


# The final unsubscribe.


def test_the_final_unsubscribe_is_the_consent_planners_and_counts_by_the_reminder_day():
    reminded_on = DAY - timedelta(days=14)
    read = consent.SubscriptionState("news", consent.ACTIVE, sunset_due="2027-07-01#03", sunset_state=PENDING)
    plan = clock.plan_final_unsubscribe(read, NOW, DAY, reminded_on)
    assert plan.consent.outcome == consent.Outcome.UNSUBSCRIBED and plan.consent.applied
    assert plan.consent.event.context.source == consent.Source.SUNSET
    [write] = plan.consent.writes
    assert write.expect.sunset_due == "2027-07-01#03" and write.expect.reminded is True
    assert write.members == -1 and plan.consent.counts == ("unsubscribe#sunset",)
    assert plan.brake == BrakeCount(Acted.UNSUBSCRIBED, DAY, reminded_on)
    assert (plan.done, plan.not_done) == (Tally.UNSUBSCRIBED, Tally.KEPT)


def test_the_final_unsubscribe_of_a_subscription_no_longer_active_changes_nothing():
    read = consent.SubscriptionState("news", consent.UNSUBSCRIBED, "EVENT#x", sunset_state=PENDING)
    plan = clock.plan_final_unsubscribe(read, NOW, DAY, None)
    assert not plan.consent.applied and plan.consent.writes == ()
    assert plan.consent.outcome == consent.Outcome.NOT_SUBSCRIBED


def test_every_tally_is_an_outcome_the_run_report_stores():
    from chalicelib.storage.sunset_runs import OUTCOMES

    assert set(Tally) == set(OUTCOMES)
