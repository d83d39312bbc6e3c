"""Storage commits what `domain.sunset` plans, on moto: for every clock step and every state a
subscription can be in by the time the step is written, the conditional write lands exactly when
the planner's preconditions (`domain.sunset.holds`) say it may, and then writes the planned clock."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import consent
from chalicelib.domain import sunset as clock
from chalicelib.domain.sunset import KEEP, REMOVE, Clock, ClockItem, SunsetState
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext, Subscription, due_key, list_key
from tests.helpers import join

NOW = datetime(2027, 7, 1, 6, 30, tzinfo=UTC)
DAY = datetime(2027, 7, 1, tzinfo=UTC)
STALE = NOW - timedelta(minutes=15)
LATER = NOW + timedelta(days=14)
PENDING = SunsetState.PENDING
SID = "sclockcommits01"
READ_DUE = due_key(DAY - timedelta(days=1), SID)
MOVED_DUE = due_key(DAY + timedelta(days=90), SID)

ACTIVE_READ = Clock(SID, "newsletter", READ_DUE)
PENDING_READ = Clock(SID, "newsletter", READ_DUE, PENDING)

# What the subscription holds when the step is written: (what the job read, the item now).
SITUATIONS = {
    "as_read": (ACTIVE_READ, ClockItem(consent.ACTIVE, READ_DUE)),
    "engaged_since": (ACTIVE_READ, ClockItem(consent.ACTIVE, MOVED_DUE)),
    "paused_since": (ACTIVE_READ, ClockItem(consent.PAUSED, READ_DUE)),
    "unsubscribed_since": (ACTIVE_READ, ClockItem(consent.UNSUBSCRIBED, READ_DUE)),
    "marked_by_another_run": (ACTIVE_READ, ClockItem(consent.ACTIVE, READ_DUE, PENDING, NOW)),
    "pending_stale": (PENDING_READ, ClockItem(consent.ACTIVE, READ_DUE, PENDING, STALE - timedelta(hours=1))),
    "pending_fresh": (PENDING_READ, ClockItem(consent.ACTIVE, READ_DUE, PENDING, NOW - timedelta(minutes=1))),
    "pending_reminded": (PENDING_READ, ClockItem(consent.ACTIVE, READ_DUE, PENDING, STALE, reminded=True)),
    "kept_since": (PENDING_READ, ClockItem(consent.ACTIVE, MOVED_DUE)),
}
PLANNERS = {
    "reschedule": lambda read: clock.plan_reschedule(read, LATER),
    "mark_pending": lambda read: clock.plan_mark_pending(read, NOW, STALE),
    "mark_reminded": lambda read: clock.plan_mark_reminded(read, NOW, LATER, DAY),
    "release_pending": lambda read: clock.plan_release_pending(read, LATER),
}


@pytest.fixture
def newsletter(aws):
    lists.create_list("newsletter", "Newsletter")
    join(SID, "clock@example.com", "newsletter", AuditContext("import"), NOW - timedelta(days=400))


def hold(item: ClockItem) -> None:
    """Put the subscription in the state `item` describes."""
    actions = [Subscription.status.set(item.status), Subscription.sunset_due.set(item.due)]
    actions.append(Subscription.sunset_state.set(item.state) if item.state else Subscription.sunset_state.remove())
    actions.append(
        Subscription.pending_since.set(item.pending_since) if item.pending_since else Subscription.pending_since.remove()
    )
    actions.append(
        Subscription.reminder_sent_at.set(STALE) if item.reminded else Subscription.reminder_sent_at.remove()
    )
    Subscription(SID, list_key("newsletter")).update(actions=actions)


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("step", PLANNERS)
def test_a_clock_step_lands_exactly_when_its_preconditions_hold(newsletter, step, situation):
    read, now_held = SITUATIONS[situation]
    hold(now_held)
    before = subscribers.get_subscription(SID, "newsletter")
    plan = PLANNERS[step](read)

    written = subscribers.commit_clock(plan)

    assert written == clock.holds(plan.expect, read, now_held)
    after = subscribers.get_subscription(SID, "newsletter")
    if not written:
        assert after.attribute_values == before.attribute_values
        return
    write = plan.write
    expected_state = now_held.state if write.state is KEEP else write.state
    assert after.sunset_state == (str(expected_state) if expected_state else None)
    if write.pending_since is not KEEP:
        assert after.pending_since == (None if write.pending_since is REMOVE else write.pending_since)
    if write.reminder_sent_at is not KEEP:
        assert after.reminder_sent_at == write.reminder_sent_at
    assert after.sunset_due == (now_held.due if write.due is KEEP else due_key(write.due, SID))


def test_the_steps_that_count_for_the_brake_count_only_when_they_land(newsletter):
    from chalicelib.storage.sunset_runs import acted_between

    hold(ClockItem(consent.ACTIVE, READ_DUE, PENDING, STALE))
    plan = clock.plan_mark_reminded(PENDING_READ, NOW, LATER, DAY)
    assert subscribers.commit_clock(plan)
    assert not subscribers.commit_clock(plan)  # reminded already: a second worker counts nobody
    assert [(a.kind, a.n) for a in acted_between("newsletter", DAY, DAY)] == [("reminded", 1)]
