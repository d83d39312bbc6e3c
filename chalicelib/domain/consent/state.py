"""What the planners work on: the state as storage read it, and the Plan they return (the writes
with their preconditions, the consent event, the counter deltas and the outcome)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.core.ids import event_key
from chalicelib.domain.consent.vocabulary import PAUSED, Action, Outcome, Status

# The planners. Each takes the state as storage read it (or UNKNOWN when the hot path has not
# read: the plan's preconditions then say what the state must be, and when they fail storage
# hands back the item as it was, to plan again from it) and returns a Plan.


class Unknown:
    """The state was not read: plan blind, and let the preconditions decide."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()
EVERY_LIST = "*"  # the list id of a change that covers every list
ANY = object()  # a precondition field that does not matter


@dataclass(frozen=True)
class AuditContext:
    """Who asked, and how, for the consent trail (never an address: a hashed IP at most)."""

    source: str
    ip_hash: str | None = None
    user_agent: str | None = None
    key_id: str | None = None
    campaign_id: str | None = None


@dataclass(frozen=True)
class SubscriptionState:
    """One subscription as read; `status` None: there is none."""

    list_id: str
    status: Status | None = None
    last_event: str | None = None
    paused_until: datetime | None = None
    frequency: str | None = None
    last_source: str | None = None  # the source of `last_event`, when the caller read it
    sunset_due: str | None = None  # the sunset job's clock, as the job read it
    sunset_state: str | None = None
    reminded: bool = False


@dataclass(frozen=True)
class ProfileState:
    opted_out_all: bool = False
    opted_out_event: str | None = None
    suppressed_channels: frozenset[str] = frozenset()
    undone: frozenset[str] = frozenset()
    email: str | None = None
    opted_out_source: str | None = None  # the door of `opted_out_event` (Source)


NO_PROFILE = ProfileState()


@dataclass(frozen=True)
class EventState:
    """A recorded consent event, as an undo reads it."""

    key: str
    action: str
    list_id: str
    at: datetime
    lists: tuple[str, ...] = ()
    frequency: str | None = None
    frequency_before: str | None = None
    source: str | None = None  # the door it came through (Source)


@dataclass(frozen=True)
class Event:
    """The consent event a plan records."""

    key: str
    action: Action
    list_id: str
    context: AuditContext
    at: datetime
    lists: tuple[str, ...] | None = None
    until: datetime | None = None
    frequency: str | None = None
    frequency_before: str | None = None


def new_event(action: Action, list_id: str, ctx: AuditContext, now: datetime, **details) -> Event:
    return Event(event_key(now), action, list_id, ctx, now, **details)


@dataclass(frozen=True)
class Expect:
    """What a subscription must still hold for its write to apply. `statuses` may hold None (no
    subscription yet); a paused one qualifies only when its pause ends before `pause_ends_before`
    (when given)."""

    statuses: frozenset
    last_event: str | None = None
    frequency: object = ANY
    pause_ends_before: datetime | None = None
    sunset_due: object = ANY  # the sunset job acts only on what it read
    sunset_state: object = ANY
    reminded: bool | None = None

    def holds(self, state: SubscriptionState) -> bool:
        if state.status not in self.statuses:
            return False
        if self.last_event is not None and state.last_event != self.last_event:
            return False
        if self.frequency is not ANY and state.frequency != self.frequency:
            return False
        if self.sunset_due is not ANY and state.sunset_due != self.sunset_due:
            return False
        if self.sunset_state is not ANY and state.sunset_state != self.sunset_state:
            return False
        if self.reminded is not None and state.reminded != self.reminded:
            return False
        return not (
            state.status == PAUSED
            and self.pause_ends_before is not None
            and state.paused_until is not None
            and state.paused_until >= self.pause_ends_before
        )


class Sunset(StrEnum):
    KEEP = "keep"  # the sunset clock is not touched
    LEAVE = "leave"  # out of the sunset index: no more mail
    # Out of the index, but the reminder's time stays: it names the re-permission email that
    # asked, so that email's "keep me" finds every list it named (the job's own unsubscribe).
    LEAVE_KEEPING_REMINDER = "leave_keeping_reminder"
    RESTART = "restart"  # a fresh start on the clock, next due on `sunset_due`


@dataclass(frozen=True)
class SubscriptionWrite:
    """The new state of one subscription. `status` ACTIVE clears any unsubscribe and pause;
    UNSUBSCRIBED stamps `at` as `unsubscribed_at` and clears a pause; PAUSED sets
    `paused_until`; None keeps the status (a frequency change)."""

    list_id: str
    expect: Expect
    status: Status | None = None
    at: datetime | None = None
    paused_until: datetime | None = None
    joined: bool = False  # a subscribe: `subscribed_at` and the address are (re)written
    email: str | None = None
    frequency: object = ANY  # ANY: unchanged; None: back to every send
    sunset: Sunset = Sunset.KEEP
    sunset_due: datetime | None = None
    members: int = 0  # the list's member counter moves by this
    counts: tuple[str, ...] = ()  # leaving counters, under the plan's `count_scope`


@dataclass(frozen=True)
class ProfileWrite:
    """The new state of the profile; `expect_*` are its preconditions."""

    expect_opted_out: bool | None = None
    expect_opted_out_event: str | None = None  # the opt-out in force is still this event's
    expect_not_undone: str | None = None
    expect_not_suppressed: str | None = None
    expect_suppressed: str | None = None
    expect_keyword_before: datetime | None = None  # an SMS keyword: only one newer than the last applied
    opted_out_all: bool | None = None
    opted_out_event: str | None = None
    opted_out_source: str | None = None
    add_undone: str | None = None
    suppress: str | None = None
    unsuppress: str | None = None
    keyword_at: datetime | None = None
    email: str | None = None
    created_at: datetime | None = None  # kept when the profile has one already


@dataclass(frozen=True)
class Plan:
    """A consent change as decided: `writes` (with their preconditions), the event, the counter
    deltas and the outcome. `event_key` names the event written, or the one that did it already."""

    outcome: Outcome
    status: Status | None = None
    event_key: str | None = None
    event: Event | None = None
    list_must_exist: str | None = None
    profile: ProfileWrite | None = None
    writes: tuple[SubscriptionWrite, ...] = ()
    count_scope: str | None = None
    counts: tuple[str, ...] = ()  # counted once, with the event

    @property
    def applied(self) -> bool:
        return self.event is not None


def already_done(outcome: Outcome, status: Status | None = None, event_key: str | None = None) -> Plan:
    """A plan that changes nothing: `event_key` names the event that did it already, if any."""
    return Plan(outcome, status, event_key)


def was_read(state) -> bool:
    """The planner was given the state, not UNKNOWN."""
    return state is not UNKNOWN


# A transaction holds at most 100 items: a subscription and its member counter take two.
LISTS_PER_TRANSACTION = 45


@dataclass(frozen=True)
class NumberState:
    """A number's profile as read: opted out of SMS or not, and the time of its latest keyword
    applied (inbound messages arrive out of order)."""

    opted_out: bool = False
    keyword_at: datetime | None = None


def chunks(items: tuple | list, size: int = LISTS_PER_TRANSACTION) -> list:
    """`items` in parts of at most `size` (one empty part for none)."""
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]
