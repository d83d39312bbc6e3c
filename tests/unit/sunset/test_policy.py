"""The sunset rules without storage: whole-day decisions, the policy's validation, the brakes."""

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.core.errors import Invalid
from chalicelib.sunset.policy import DEFAULT_POLICY, Candidate, brake_reason, next_step, parse_policy, window_start

POLICY = parse_policy({"inactive_days": 7, "grace_days": 3, "min_sends": 0})
RUN_DAY = date(2027, 3, 10)


def candidate(**values) -> Candidate:
    fields = {
        "subscriber_id": "s1",
        "list_id": "news",
        "status": "active",
        "subscribed_at": datetime(2027, 1, 1, tzinfo=UTC),
        "last_engaged_at": None,
        "sends_since_engaged": 20,
        "sunset_state": None,
        "pending_since": None,
        "reminder_sent_at": None,
        "due": "2027-03-10#00",
    }
    return Candidate(**{**fields, **values})


@pytest.mark.parametrize("hour", [0, 3, 12, 23])
def test_someone_due_later_in_the_day_than_the_run_is_reminded_on_the_day(hour):
    joined = datetime(2027, 3, 3, hour, 59, tzinfo=UTC)  # due 2027-03-10 at that hour
    assert next_step(candidate(subscribed_at=joined), POLICY, RUN_DAY) == ("remind", None)


@pytest.mark.parametrize("hour", [0, 9, 23])
def test_the_grace_period_ends_on_its_day_whatever_the_hour_of_the_reminder(hour):
    reminded = datetime(2027, 3, 7, hour, 30, tzinfo=UTC)
    pending = candidate(sunset_state="pending", pending_since=reminded, reminder_sent_at=reminded)
    assert next_step(pending, POLICY, RUN_DAY) == ("unsubscribe", None)
    step, when = next_step(pending, POLICY, RUN_DAY - timedelta(days=1))
    assert step == "reschedule" and when.date() == RUN_DAY


def test_a_reschedule_always_lands_after_the_run_day():
    review_now = candidate(subscribed_at=datetime(2027, 3, 10, 10, tzinfo=UTC))  # an admin's "review next run"
    assert next_step(review_now, POLICY, RUN_DAY) == ("reschedule", datetime(2027, 3, 17, 10, tzinfo=UTC))
    for c in (
        candidate(status="paused"),
        candidate(sends_since_engaged=0),
        candidate(last_engaged_at=datetime(2027, 3, 9, 23, 59, tzinfo=UTC)),
    ):
        step, when = next_step(c, parse_policy({"inactive_days": 7, "min_sends": 5}), RUN_DAY)
        assert step == "reschedule" and when.date() > RUN_DAY
    step, when = next_step(candidate(), parse_policy({"enabled": False}), RUN_DAY)
    assert step == "reschedule" and when.date() > RUN_DAY  # found again once the policy is enabled


def test_a_pending_subscriber_never_emailed_is_reminded():
    pending = candidate(sunset_state="pending", pending_since=datetime(2027, 3, 9, tzinfo=UTC))
    assert next_step(pending, POLICY, RUN_DAY) == ("remind", None)


def test_the_policy_takes_rolling_brake_shares_with_defaults():
    assert DEFAULT_POLICY.max_share_7d == 0.10 and DEFAULT_POLICY.max_share_30d == 0.20
    policy = parse_policy({"max_share_7d": 0.2, "max_share_30d": 1})
    assert policy.max_share_7d == 0.2 and policy.max_share_30d == 1
    assert set(parse_policy(None).as_dict()) >= {"max_share", "max_share_7d", "max_share_30d"}


@pytest.mark.parametrize("value", [0, -0.1, 1.01, 2, "0.1", True, None])
@pytest.mark.parametrize("name", ["max_share", "max_share_7d", "max_share_30d"])
def test_brake_shares_out_of_range_are_refused_clearly(name, value):
    with pytest.raises(Invalid) as refused:
        parse_policy({name: value})
    assert refused.value.code == "bad_policy" and name in refused.value.message


def test_the_run_brake_and_the_window_brakes():
    policy = parse_policy({"max_share": 0.05, "max_share_7d": 0.10, "max_share_30d": 0.20})
    assert brake_reason(0, 100, policy, {"7d": (50, 0), "30d": (50, 0)}) is None  # nothing to do this run
    assert brake_reason(6, 100, policy, {"7d": (6, 0), "30d": (6, 0)}) == "run"
    assert brake_reason(4, 100, policy, {"7d": (10, 0), "30d": (10, 0)}) is None
    assert brake_reason(4, 100, policy, {"7d": (11, 0), "30d": (11, 0)}) == "7d"
    assert brake_reason(4, 100, policy, {"7d": (9, 0), "30d": (21, 0)}) == "30d"
    # The share is of the list before the window: members the job unsubscribed in it count.
    assert brake_reason(4, 90, policy, {"7d": (10, 10), "30d": (10, 10)}) is None
    assert brake_reason(1, 0, policy, {"7d": (1, 0), "30d": (1, 0)}) == "run"


def test_every_limit_at_one_lets_the_whole_list_go():
    policy = parse_policy({"max_share": 1, "max_share_7d": 1, "max_share_30d": 1})
    assert brake_reason(10, 10, policy, {"7d": (10, 0), "30d": (10, 0)}) is None


def test_windows_include_the_run_day():
    assert window_start(RUN_DAY, "7d") == date(2027, 3, 4) and window_start(RUN_DAY, "30d") == date(2027, 2, 9)
