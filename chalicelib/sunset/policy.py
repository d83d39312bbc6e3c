"""The rules of the inactive-subscriber job, free of storage (a list's policy as a value, and
when a window first ends, are `core.sunset_policy`, shared with the subscribe path).

A subscription carries its next due date in a sparse index keyed `YYYY-MM-DD#<shard>`, present
only while it is active or pending, so the daily job reads about as many items as are due.

The index is keyed by day, so the job decides by whole days: a run on day D acts on everyone
due on D or before (whatever the hour of their due time, and whatever the hour its workers
run), and whatever it moves lands on a day after D.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from chalicelib.core.ids import SHARDS
from chalicelib.core.sunset_policy import DEFAULT_POLICY, SHARES, Policy, first_due, parse_policy
from chalicelib.domain.consent import PAUSED, UNSUBSCRIBED
from chalicelib.domain.sunset import Step, SunsetState

__all__ = ["DEFAULT_POLICY", "SHARDS", "SHARES", "Policy", "first_due", "parse_policy"]
RESCHEDULE_FEW_SENDS = timedelta(days=14)  # inactive but not yet sent enough: look again later
WINDOWS = {"7d": 7, "30d": 30}  # the rolling brake's windows, in days (the run's day included)


def day_of(moment: datetime) -> date:
    """The UTC day of a moment: the unit the due index and the job work in."""
    return moment.astimezone(UTC).date()


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class Candidate:
    """What the job reads of one due subscription."""

    subscriber_id: str
    list_id: str
    status: str
    subscribed_at: datetime | None
    last_engaged_at: datetime | None
    sends_since_engaged: int
    sunset_state: str | None
    pending_since: datetime | None
    reminder_sent_at: datetime | None
    due: str


def _decide(candidate: Candidate, policy: Policy, run_day: date) -> tuple[Step, datetime | None]:
    if not policy.enabled:
        # Looked at again later, so the job finds them when the policy is enabled again.
        return Step.RESCHEDULE, start_of(run_day + timedelta(days=policy.inactive_days))
    if candidate.status == UNSUBSCRIBED:
        return Step.SKIP_UNSUBSCRIBED, None
    since = max(d for d in (candidate.subscribed_at, candidate.last_engaged_at, datetime.min.replace(tzinfo=UTC)) if d)
    if candidate.sunset_state == SunsetState.PENDING:
        if candidate.reminder_sent_at is None:
            return Step.REMIND, None  # marked pending, but the email never went out: send it now
        unsubscribe_on = candidate.reminder_sent_at + timedelta(days=policy.grace_days)
        if day_of(unsubscribe_on) > run_day:
            return Step.RESCHEDULE, unsubscribe_on
        return Step.UNSUBSCRIBE, None
    if candidate.status == PAUSED:
        return Step.RESCHEDULE, start_of(run_day + timedelta(days=policy.inactive_days))
    if day_of(first_due(policy, since)) > run_day:
        return Step.RESCHEDULE, first_due(policy, since)  # engaged (or joined) since it was scheduled
    if candidate.sends_since_engaged < policy.min_sends:
        return Step.RESCHEDULE, start_of(run_day + RESCHEDULE_FEW_SENDS)
    return Step.REMIND, None


def next_step(candidate: Candidate, policy: Policy, run_day: date) -> tuple[Step, datetime | None]:
    """(remind | unsubscribe | reschedule | skip:<why>, new due date for a reschedule),
    decided for the run of `run_day` by whole days: the hour of a due time never matters, and a
    reschedule always lands on a later day than the run's (a day this run does not read again)."""
    step, when = _decide(candidate, policy, run_day)
    if step == Step.RESCHEDULE:
        when = max(when, start_of(run_day + timedelta(days=1)))
    return step, when


def window_start(run_day: date, window: str) -> date:
    """The first day of a brake window that ends on the run's day (included)."""
    return run_day - timedelta(days=WINDOWS[window] - 1)


def brake_reason(
    moves: int, members: int, policy: Policy, windows: dict[str, tuple[int, int]] | None = None
) -> str | None:
    """Broken tracking must not empty a list, at once or slowly. None, or the limit this run
    would cross: "run" (it would move more than `max_share` of the list) or "7d" / "30d" (the
    subscriptions acted on in the window, this run included, would be more than `max_share_7d`
    / `max_share_30d` of the list).

    `windows` maps a window to (subscriptions acted on in it: reminded or unsubscribed by the
    job, each counted once, this run included; subscriptions the job unsubscribed in it before
    this run). The share is taken of the list as it was before the window: today's members plus
    those the job unsubscribed since. Each subscription counts once per reminder: with
    `inactive_days` under 30, someone who kept their subscription and fell inactive again
    within 30 days counts twice in the 30-day window."""
    members = max(members, 0)
    if moves <= 0:
        return None
    if moves > policy.max_share * members:
        return "run"
    for window in WINDOWS:
        share = policy.window_share(window)
        if share >= 1:
            continue  # the whole list: no limit (someone reminded twice in a window counts twice)
        acted, unsubscribed = (windows or {}).get(window, (moves, 0))
        if acted > share * (members + unsubscribed):
            return window
    return None


def policy_of(list_id: str) -> Policy:
    """The list's sunset policy (the defaults when it has none)."""
    from chalicelib.storage import lists

    return parse_policy(lists.sunset_policy_of(list_id))
