"""The sunset job's clock steps, free of storage: for each step (reschedule, mark pending, mark
reminded, release a pending mark, the final unsubscribe) a pure planner that, given what the job
read of a subscription and `now`, returns the preconditions, the new clock state, the brake
counter the step moves and what the run's report counts whether it applies or not. Storage turns
a plan into one conditional write (or transaction); `sunset.job` only asks and counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain import consent


class SunsetState(StrEnum):
    """The clock's state beyond "active" (absent): the re-permission email is due or sent."""

    PENDING = "pending"


class Step(StrEnum):
    """What a run does to a due subscription (`policy.next_step`)."""

    REMIND = "remind"
    UNSUBSCRIBE = "unsubscribe"
    RESCHEDULE = "reschedule"
    SKIP_UNSUBSCRIBED = "skip:unsubscribed"


class Acted(StrEnum):
    """What the brake counts per list and day, committed with the action itself."""

    REMINDED = "reminded"
    UNSUBSCRIBED = "unsubscribed"


class Tally(StrEnum):
    """What a run's report counts (`storage.sunset_runs.OUTCOMES`)."""

    FOUND = "found"
    EMAILED = "emailed"  # subscriptions reminded
    EMAILS_SENT = "emails_sent"  # re-permission emails, one per person and run
    UNSUBSCRIBED = "unsubscribed"
    RESCHEDULED = "rescheduled"
    KEPT = "kept"
    CHANGED_SINCE_READ = "changed_since_read"
    EMAIL_FAILED = "email_failed"
    BRAKED = "braked"


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


KEEP = _Keep()  # a clock field the step leaves as it is
REMOVE = None  # a clock field the step removes


@dataclass(frozen=True)
class Clock:
    """What the job read of one subscription's clock: the conditions compare against it."""

    subscriber_id: str
    list_id: str
    due: str | None  # the due index key `YYYY-MM-DD#<shard>`, as read
    state: SunsetState | None = None


@dataclass(frozen=True)
class ClockExpect:
    """What the subscription must still hold. `as_read`: its due key and state are what the job
    read (anything since, an engagement or a choice, moved them). `state`: the state it must be
    in whatever was read. `pending_since_before`: a pending mark older than this (or none)."""

    as_read: bool = False
    active: bool = False
    state: SunsetState | None | _Keep = KEEP
    not_reminded: bool = False
    pending_since_before: datetime | None = None


@dataclass(frozen=True)
class ClockItem:
    """A subscription's clock as it is now (what a condition is evaluated against)."""

    status: consent.Status | None
    due: str | None
    state: SunsetState | None = None
    pending_since: datetime | None = None
    reminded: bool = False


def holds(expect: ClockExpect, read: Clock, item: ClockItem) -> bool:
    """Whether `item` still meets `expect`, `read` being what the job read (storage writes the
    same conditions; an in-memory store evaluates them here)."""
    if expect.as_read and (item.due, item.state) != (read.due, read.state):
        return False
    if expect.active and item.status != consent.ACTIVE:
        return False
    if expect.state is not KEEP and item.state != expect.state:
        return False
    if expect.not_reminded and item.reminded:
        return False
    return not (
        expect.pending_since_before is not None
        and item.pending_since is not None
        and item.pending_since >= expect.pending_since_before
    )


@dataclass(frozen=True)
class ClockWrite:
    """The clock's new fields: a value, REMOVE (None) or KEEP."""

    state: SunsetState | None | _Keep = KEEP
    pending_since: datetime | None | _Keep = KEEP
    reminder_sent_at: datetime | _Keep = KEEP
    due: datetime | _Keep = KEEP  # the moment the subscription is next due


@dataclass(frozen=True)
class BrakeCount:
    """One subscription acted on, counted on the run's `day` (an unsubscribe by its reminder's day)."""

    kind: Acted
    day: datetime
    reminded_on: datetime | None = None


@dataclass(frozen=True)
class ClockPlan:
    """A clock step as decided: its preconditions, its write, the brake counter it moves in the
    same write, and what the run counts when it is written (`done`) or a condition failed (`not_done`)."""

    clock: Clock
    expect: ClockExpect
    write: ClockWrite
    done: Tally | None  # None: counted by a later step
    not_done: Tally
    brake: BrakeCount | None = None


def plan_reschedule(clock: Clock, when: datetime) -> ClockPlan:
    """Not yet (inactive but too few sends, engaged since, paused, policy off, grace running): due
    again on `when`, only if nothing moved the clock since the scan."""
    return ClockPlan(
        clock, ClockExpect(as_read=True), ClockWrite(due=when), Tally.RESCHEDULED, Tally.CHANGED_SINCE_READ
    )


def plan_mark_pending(clock: Clock, now: datetime, stale_before: datetime) -> ClockPlan:
    """Before the email goes out: a second (or overlapping) run finds it taken. A clock read as
    pending but never reminded is taken over only when it was marked before `stale_before` (its
    worker stopped before sending; one marked since may be sending right now). When the mark
    fails, a clock read as pending is another worker's (changed since read; the cursor stays),
    any other was engaged or left since the scan (kept)."""
    if clock.state == SunsetState.PENDING:
        expect = ClockExpect(as_read=True, active=True, not_reminded=True, pending_since_before=stale_before)
        return ClockPlan(clock, expect, ClockWrite(pending_since=now), None, Tally.CHANGED_SINCE_READ)
    write = ClockWrite(state=SunsetState.PENDING, pending_since=now)
    return ClockPlan(clock, ClockExpect(as_read=True, active=True), write, None, Tally.KEPT)


def plan_mark_reminded(clock: Clock, now: datetime, unsubscribe_on: datetime, day: datetime) -> ClockPlan:
    """The email went out: the grace period runs until `unsubscribe_on`; counted for the brake as
    reminded on the run's `day`. Only a pending mark not yet reminded (a keep meanwhile wins; the
    email went out either way, so it is counted either way)."""
    return ClockPlan(
        clock,
        ClockExpect(state=SunsetState.PENDING, not_reminded=True),
        ClockWrite(reminder_sent_at=now, due=unsubscribe_on),
        Tally.EMAILED,
        Tally.EMAILED,
        BrakeCount(Acted.REMINDED, day),
    )


def plan_release_pending(clock: Clock, retry_on: datetime) -> ClockPlan:
    """The email could not be sent: back to active, due again on `retry_on` (the subscription is
    kept, never unsubscribed without a reminder)."""
    return ClockPlan(
        clock,
        ClockExpect(state=SunsetState.PENDING, not_reminded=True),
        ClockWrite(state=REMOVE, pending_since=REMOVE, due=retry_on),
        Tally.EMAIL_FAILED,
        Tally.EMAIL_FAILED,
    )


@dataclass(frozen=True)
class UnsubscribePlan:
    """The final step: the consent change (`consent.plan_sunset_unsubscribe`, the same planner
    every door's "already done" goes through) and the brake counter written with it."""

    consent: consent.Plan
    brake: BrakeCount
    done: Tally = Tally.UNSUBSCRIBED
    not_done: Tally = Tally.KEPT


def plan_final_unsubscribe(
    state: consent.SubscriptionState, now: datetime, day: datetime, reminded_on: datetime | None
) -> UnsubscribePlan:
    """Still no engagement after the grace period: unsubscribed (source "sunset"), counted for
    the brake on the run's `day` by the day of its reminder (`reminded_on`, None: unknown)."""
    return UnsubscribePlan(
        consent.plan_sunset_unsubscribe(state, now), BrakeCount(Acted.UNSUBSCRIBED, day, reminded_on)
    )
