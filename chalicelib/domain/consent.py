"""The rules of consent, free of storage: the vocabulary, who may be sent to, and one pure planner
per consent change, which decides what the change does to the state it is given (or "already
done", decided here and nowhere else). Storage commits a plan; services ask for one."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.core.ids import event_key


class Status(StrEnum):
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    PAUSED = "paused"


ACTIVE, UNSUBSCRIBED, PAUSED = Status.ACTIVE, Status.UNSUBSCRIBED, Status.PAUSED
RECEIVING = frozenset({ACTIVE, PAUSED})  # still on the list (a pause ends by itself)


class Action(StrEnum):
    """What a consent event records."""

    SUBSCRIBE = "subscribe"
    RESUBSCRIBE = "resubscribe"
    UNSUBSCRIBE = "unsubscribe"
    UNSUBSCRIBE_ALL = "unsubscribe_all"
    PAUSE = "pause"
    RESUME = "resume"
    FREQUENCY = "frequency"
    SUPPRESS_EMAIL = "suppress_email"
    SUPPRESS_SMS = "suppress_sms"
    RESUME_SMS = "resume_sms"


class Source(StrEnum):
    """Through which door a change came."""

    ONE_CLICK = "one-click"
    PAGE = "page"
    API = "api"
    IMPORT = "import"
    SUNSET = "sunset"
    COMPLAINT = "complaint"
    BOUNCE = "bounce"
    ERASURE = "erasure"
    SES_SUBSCRIPTION = "ses-subscription"  # SES subscription management (its own header or page)
    MAILTO = "mailto"  # an email to the List-Unsubscribe mailto address (SES receiving)
    SMS_KEYWORD = "sms-keyword"  # STOP / START sent to one of our SMS numbers


class Outcome(StrEnum):
    """What a planned change does: applied, or already done and why."""

    SUBSCRIBED = "subscribed"
    RESUBSCRIBED = "resubscribed"
    ALREADY_SUBSCRIBED = "already_subscribed"
    PREVIOUSLY_UNSUBSCRIBED = "previously_unsubscribed"
    UNSUBSCRIBED = "unsubscribed"
    ALREADY_UNSUBSCRIBED = "already_unsubscribed"
    PAUSED = "paused"
    ALREADY_PAUSED = "already_paused"
    NOT_SUBSCRIBED = "not_subscribed"
    FREQUENCY_CHOSEN = "frequency_chosen"
    FREQUENCY_HELD = "frequency_held"
    RESTORED = "restored"
    NOTHING_TO_UNDO = "nothing_to_undo"
    SUPPRESSED = "suppressed"
    ALREADY_SUPPRESSED = "already_suppressed"
    KEPT = "kept"
    KEPT_BY_RESUBSCRIBING = "kept_by_resubscribing"
    OPTED_OUT = "opted_out"
    RESUMED = "resumed"
    KEYWORD_REPEATED = "keyword_repeated"
    KEYWORD_SUPERSEDED = "keyword_superseded"


SOURCES = tuple(Source)
CHANNELS = ("email", "sms", "push")
# What a person can choose on the unsubscribe page; "all" must exist whenever per-list choices do.
CHOICES = ("list", "all", "pause30", "pause90")
PAUSE_DAYS = {"pause30": 30, "pause90": 90}

# Every reason a list may offer in its exit survey (each is counted per list and month); a list
# picks some of them (its branding's `survey_reasons`), else it asks the newsletter defaults.
SURVEY_REASONS = (
    "too_many_emails",
    "not_relevant",
    "too_expensive",
    "switched_service",
    "missing_features",
    "technical_problems",
    "never_signed_up",
    "prefer_other_channel",
    "other",
)
DEFAULT_SURVEY_REASONS = ("too_many_emails", "not_relevant", "never_signed_up", "prefer_other_channel", "other")
SURVEY_COMMENT_LIMIT = 2000

# "Less often" instead of leaving: an operator may offer a few frequencies per list
# (`unsubscribe.contracts.Frequencies` reads them). The page posts `choice=frequency:<id>`; the
# choice is stored on the subscription and answered at send time.
FREQUENCY_CHOICE = "frequency:"
FREQUENCY_ID = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_FREQUENCY_ID = re.compile(FREQUENCY_ID)


# The page's "every email again" choice (`frequency:*`): back to every send, no frequency held.
EVERY_EMAIL = "*"


def frequency_of(choice: str) -> str | None:
    """The frequency id a page choice names (EVERY_EMAIL for every send again), or None when it
    names no frequency."""
    if isinstance(choice, str) and choice.startswith(FREQUENCY_CHOICE):
        frequency_id = choice.removeprefix(FREQUENCY_CHOICE)
        return frequency_id if frequency_id == EVERY_EMAIL or _FREQUENCY_ID.match(frequency_id) else None
    return None


def frequency_label(frequencies: list[dict] | None, frequency_id: str | None, language: str) -> str | None:
    """What a person reads for a frequency id (the id itself when the list no longer offers it)."""
    if frequency_id is None:
        return None
    for entry in frequencies or ():
        if entry.get("id") == frequency_id:
            return (entry.get("labels") or {}).get(language) or entry.get("label") or frequency_id
    return frequency_id


# What undoing an event does: an unsubscribe is undone by a resubscribe, a pause by a resume.
UNDO_ACTION = {
    Action.UNSUBSCRIBE: Action.RESUBSCRIBE,
    Action.UNSUBSCRIBE_ALL: Action.RESUBSCRIBE,
    Action.PAUSE: Action.RESUME,
}
# A person undoes only a choice they made through the link: a complaint, a bounce, an erasure,
# the sunset job or an operator's change is not theirs to reverse from a confirmation page.
UNDOABLE_SOURCES = frozenset({Source.ONE_CLICK, Source.PAGE})


def undoable(action: str, source: str | None) -> bool:
    return action in UNDO_ACTION and source in UNDOABLE_SOURCES


@dataclass(frozen=True)
class Permission:
    allowed: bool
    reason: str


def may_send(
    status: str | None,
    paused_until: datetime | None,
    opted_out_all: bool,
    suppressed_channels: set[str],
    channel: str,
    now: datetime,
) -> Permission:
    """A choice made on any channel holds on every channel: an unsubscribe is per list, not per medium."""
    if opted_out_all:  # first: it covers the lists they never joined as well
        return Permission(False, "opted_out_all")
    if status is None:
        return Permission(False, "not_subscribed")
    if channel in suppressed_channels:
        return Permission(False, "channel_suppressed")
    if status == UNSUBSCRIBED:
        return Permission(False, "unsubscribed")
    if status == PAUSED and paused_until is not None and now < paused_until:
        return Permission(False, "paused")
    return Permission(True, "subscribed")


def pause_end(choice: str, now: datetime) -> datetime:
    return now + timedelta(days=PAUSE_DAYS[choice])


class InvalidSurvey(ValueError):
    pass


class InvalidSurveyReasons(ValueError):
    pass


MAX_SURVEY_REASONS = 10


def clean_survey_reasons(value) -> list[str] | None:
    """A list's own survey reasons, as an operator gives them: known reasons, each once, in the
    order the page shows them (None or empty: the defaults)."""
    if value is None or value == []:
        return None
    if not isinstance(value, list) or not all(isinstance(reason, str) for reason in value):
        raise InvalidSurveyReasons("survey_reasons is a list of reason ids")
    unknown = [reason for reason in value if reason not in SURVEY_REASONS]
    if unknown:
        raise InvalidSurveyReasons(f"unknown survey reasons {unknown}; choose from {list(SURVEY_REASONS)}")
    if len(set(value)) != len(value) or len(value) > MAX_SURVEY_REASONS:
        raise InvalidSurveyReasons(f"name each reason once, at most {MAX_SURVEY_REASONS}")
    return list(value)


def survey_reasons_of(configured) -> tuple[str, ...]:
    """The reasons a list's survey offers: its own (unknown ones dropped), else the defaults."""
    own = tuple(reason for reason in configured or () if reason in SURVEY_REASONS)
    return own or DEFAULT_SURVEY_REASONS


def clean_survey(
    reason: str | None, comment: str | None, offered: tuple[str, ...] = SURVEY_REASONS
) -> tuple[str, str | None]:
    if reason not in offered:
        raise InvalidSurvey("choose one of the listed reasons")
    comment = (comment or "").strip() or None
    if comment and len(comment) > SURVEY_COMMENT_LIMIT:
        raise InvalidSurvey(f"the comment is longer than {SURVEY_COMMENT_LIMIT} characters")
    return reason, comment


# The planners. Each takes the state as storage read it (or UNKNOWN when the hot path has not
# read: the plan's preconditions then say what the state must be, and when they fail storage
# hands back the item as it was, to plan again from it) and returns a Plan.


class _Unknown:
    """The state was not read: plan blind, and let the preconditions decide."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
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
    expect_not_undone: str | None = None
    expect_not_suppressed: str | None = None
    expect_suppressed: str | None = None
    expect_keyword_before: datetime | None = None  # an SMS keyword: only one newer than the last applied
    opted_out_all: bool | None = None
    opted_out_event: str | None = None
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


def _done(outcome: Outcome, status: Status | None = None, event_key: str | None = None) -> Plan:
    return Plan(outcome, status, event_key)


def _known(state) -> bool:
    return state is not UNKNOWN


# Subscribing: an import or the API; `resubscribe` is consent given again.


def plan_subscribe(
    state: SubscriptionState | _Unknown,
    list_id: str,
    email: str,
    ctx: AuditContext,
    now: datetime,
    sunset_due: datetime,
    resubscribe: bool = False,
    profile: ProfileState | _Unknown = UNKNOWN,
) -> Plan:
    """Someone who unsubscribed is never brought back by an import; only an explicit
    `resubscribe` does that (and it lifts an opt-out of every list). Someone who stopped
    everything (or complained, or was erased) left the lists to come as well: joining any list is
    `previously_unsubscribed` for them too. Planned blind (UNKNOWN), the profile's "not opted out
    of everything" is a precondition of the same transaction."""
    allowed = frozenset({None, UNSUBSCRIBED} if resubscribe else {None})
    if _known(profile) and profile.opted_out_all and not resubscribe:
        return _done(Outcome.PREVIOUSLY_UNSUBSCRIBED, UNSUBSCRIBED, profile.opted_out_event)
    if _known(state):
        if state.status in RECEIVING:
            return _done(Outcome.ALREADY_SUBSCRIBED, state.status, state.last_event)
        if state.status == UNSUBSCRIBED and not resubscribe:
            return _done(Outcome.PREVIOUSLY_UNSUBSCRIBED, UNSUBSCRIBED, state.last_event)
        allowed = frozenset({state.status})
    event = new_event(Action.RESUBSCRIBE if resubscribe else Action.SUBSCRIBE, list_id, ctx, now)
    join = SubscriptionWrite(
        list_id,
        Expect(allowed),
        status=ACTIVE,
        at=now,
        joined=True,
        email=email,
        sunset=Sunset.RESTART,
        sunset_due=sunset_due,
        members=1,
    )
    write = ProfileWrite(
        expect_opted_out=None if resubscribe else False,
        email=email,
        created_at=now,
        opted_out_all=False if resubscribe else None,
    )
    outcome = Outcome.RESUBSCRIBED if resubscribe else Outcome.SUBSCRIBED
    return Plan(outcome, ACTIVE, event.key, event, list_id, write, (join,))


# Leaving one list: the one-click POST, the page's "this list", mailto, the sunset job's last step.


def plan_unsubscribe(state: SubscriptionState | _Unknown, list_id: str, ctx: AuditContext, now: datetime) -> Plan:
    """Repeating it changes nothing (the first `unsubscribed_at` stays). A subscription we never
    saw is recorded as unsubscribed, so the choice holds if the sender imports the address later.
    Planned blind (UNKNOWN), it expects a subscription still receiving: one round trip."""
    if _known(state) and state.status == UNSUBSCRIBED:
        return _done(Outcome.ALREADY_UNSUBSCRIBED, UNSUBSCRIBED, state.last_event)
    leaving = not _known(state) or state.status is not None
    expect = RECEIVING if not _known(state) else frozenset({state.status})
    event = new_event(Action.UNSUBSCRIBE, list_id, ctx, now)
    write = SubscriptionWrite(
        list_id,
        Expect(frozenset(expect)),
        status=UNSUBSCRIBED,
        at=now,
        sunset=Sunset.LEAVE,
        members=-1 if leaving else 0,
    )
    return Plan(
        Outcome.UNSUBSCRIBED,
        UNSUBSCRIBED,
        event.key,
        event,
        list_id,
        writes=(write,),
        count_scope=list_id,
        counts=(f"unsubscribe#{ctx.source}",),
    )


PENDING = "pending"  # the sunset state of a subscription whose re-permission email is due or sent


def plan_sunset_unsubscribe(state: SubscriptionState, now: datetime) -> Plan:
    """The sunset job's last step, for a subscription it read: still active, re-permission email
    sent and the grace period over, its clock where the job read it (any engagement or choice
    since moves it, and the write fails). The job's read holds only the clock and the state, so
    the reminder is a precondition, not read here. Source "sunset", apart from a person's own
    choice; a later subscribe brings them back."""
    if state.status != ACTIVE:
        return _done(Outcome.NOT_SUBSCRIBED, state.status, state.last_event)
    event = new_event(Action.UNSUBSCRIBE, state.list_id, AuditContext(Source.SUNSET), now)
    expect = Expect(frozenset({ACTIVE}), sunset_due=state.sunset_due, sunset_state=PENDING, reminded=True)
    write = SubscriptionWrite(
        state.list_id, expect, status=UNSUBSCRIBED, at=now, sunset=Sunset.LEAVE_KEEPING_REMINDER, members=-1
    )
    return Plan(
        Outcome.UNSUBSCRIBED,
        UNSUBSCRIBED,
        event.key,
        event,
        writes=(write,),
        count_scope=state.list_id,
        counts=(f"unsubscribe#{Source.SUNSET}",),
    )


# A repeated pause that would move its end by less than this is the same pause (a double click).
PAUSE_REPEAT_WINDOW = timedelta(hours=1)


def plan_pause(
    state: SubscriptionState | _Unknown, list_id: str, until: datetime, ctx: AuditContext, now: datetime
) -> Plan:
    """Pause until `until`. Pausing again extends the pause; the same pause again (a double
    click, a retry) records nothing. Pausing never brings back someone who left."""
    ends_before = until - PAUSE_REPEAT_WINDOW
    expect = Expect(RECEIVING, pause_ends_before=ends_before)
    if _known(state):
        if state.status not in RECEIVING:
            return _done(Outcome.NOT_SUBSCRIBED, state.status, state.last_event)
        if not expect.holds(state):
            return _done(Outcome.ALREADY_PAUSED, PAUSED, state.last_event)
        expect = replace(expect, statuses=frozenset({state.status}))
    event = new_event(Action.PAUSE, list_id, ctx, now, until=until)
    write = SubscriptionWrite(list_id, expect, status=PAUSED, paused_until=until)
    return Plan(
        Outcome.PAUSED,
        PAUSED,
        event.key,
        event,
        writes=(write,),
        count_scope=list_id,
        counts=(f"pause#{ctx.source}",),
    )


# Leaving every list (and the lists of the future): the page's "stop everything", a complaint,
# SES subscription management's unsubscribe-all, erasure.

# A transaction holds at most 100 items: a subscription and its member counter take two.
LISTS_PER_TRANSACTION = 45


def plan_unsubscribe_all(
    profile: ProfileState | None,
    subscriptions: list[SubscriptionState],
    ctx: AuditContext,
    now: datetime,
    continuing: str | None = None,
) -> Plan:
    """Leave every list and opt out of future ones, as one consent event. Already done only when
    every list is left AND the opt-out of every list is recorded: a list left earlier (the
    usual order before a complaint) never makes the opt-out itself "already done".

    `continuing` names the event of a stop-everything whose first part was committed: the plan
    then only leaves the lists still receiving, under that event."""
    profile = profile or NO_PROFILE
    left = [s for s in subscriptions if s.status in RECEIVING]
    counted = f"unsubscribe#{ctx.source}@"
    writes = tuple(
        SubscriptionWrite(
            s.list_id,
            Expect(frozenset({s.status})),
            status=UNSUBSCRIBED,
            at=now,
            sunset=Sunset.LEAVE,
            members=-1,
            counts=(counted + s.list_id,),
        )
        for s in left
    )
    if continuing is not None:
        if not left:
            return _done(Outcome.UNSUBSCRIBED, UNSUBSCRIBED, continuing)
        return Plan(Outcome.UNSUBSCRIBED, UNSUBSCRIBED, continuing, writes=writes, count_scope=EVERY_LIST)
    if not left and profile.opted_out_all:
        return _done(Outcome.ALREADY_UNSUBSCRIBED, UNSUBSCRIBED, profile.opted_out_event)
    event = new_event(Action.UNSUBSCRIBE_ALL, EVERY_LIST, ctx, now, lists=tuple(s.list_id for s in left))
    opt_out = ProfileWrite(expect_opted_out=profile.opted_out_all, opted_out_all=True, opted_out_event=event.key)
    return Plan(
        Outcome.UNSUBSCRIBED,
        UNSUBSCRIBED,
        event.key,
        event,
        profile=opt_out,
        writes=writes,
        count_scope=EVERY_LIST,
        counts=(f"unsubscribe_all#{ctx.source}",),
    )


def plan_complaint(profile: ProfileState | None, subscriptions: list[SubscriptionState], now: datetime) -> Plan:
    """A spam complaint is the strongest opt-out: every list, and every list joined later, even
    when the person had left each list before complaining."""
    return plan_unsubscribe_all(profile, subscriptions, AuditContext(Source.COMPLAINT), now)


def plan_ses_unsubscribe_all(
    profile: ProfileState | None, subscriptions: list[SubscriptionState], now: datetime
) -> Plan:
    """SES subscription management's "unsubscribe from all" (a Subscription event)."""
    return plan_unsubscribe_all(profile, subscriptions, AuditContext(Source.SES_SUBSCRIPTION), now)


def plan_erase(profile: ProfileState | None, subscriptions: list[SubscriptionState], now: datetime) -> Plan:
    """Erasure forgets the person and keeps the choice: first every list is left and every
    future list refused, as a stop-everything of source "erasure" (member counts stay right);
    storage then rewrites what is left without the address or the trail."""
    return plan_unsubscribe_all(profile, subscriptions, AuditContext(Source.ERASURE), now)


# Permanent bounces and SMS keywords suppress one channel for every list.


def plan_suppress_channel(profile: ProfileState | _Unknown, channel: str, ctx: AuditContext, now: datetime) -> Plan:
    """Stop sending on `channel` (a permanent bounce: email, source bounce), recorded once in
    the audit trail."""
    if _known(profile) and channel in profile.suppressed_channels:
        return _done(Outcome.ALREADY_SUPPRESSED)
    event = new_event(Action(f"suppress_{channel}"), EVERY_LIST, ctx, now)
    write = ProfileWrite(expect_not_suppressed=channel, suppress=channel)
    return Plan(Outcome.SUPPRESSED, None, event.key, event, profile=write)


# SMS keywords, on the profile of a phone number (STOP / START and their AWS-required synonyms).

SMS = "sms"


@dataclass(frozen=True)
class NumberState:
    """A number's profile as read: opted out of SMS or not, and the time of its latest keyword
    applied (inbound messages arrive out of order)."""

    opted_out: bool = False
    keyword_at: datetime | None = None


def plan_sms_keyword(state: NumberState | _Unknown, stop: bool, at: datetime, ctx: AuditContext, now: datetime) -> Plan:
    """A keyword sent at `at`: STOP suppresses SMS, START lifts only that (an email unsubscribe
    stays). A keyword older than the last one applied changes nothing; a repeat records nothing
    but that a newer keyword came, so an older opposite one arriving late stays without effect."""
    if _known(state):
        if state.keyword_at is not None and state.keyword_at >= at:
            return _done(Outcome.KEYWORD_SUPERSEDED)
        if state.opted_out == stop:
            return Plan(Outcome.KEYWORD_REPEATED, profile=ProfileWrite(expect_keyword_before=at, keyword_at=at))
    event = new_event(Action.SUPPRESS_SMS if stop else Action.RESUME_SMS, EVERY_LIST, ctx, at)
    write = ProfileWrite(
        expect_keyword_before=at,
        expect_not_suppressed=SMS if stop else None,
        expect_suppressed=None if stop else SMS,
        suppress=SMS if stop else None,
        unsuppress=None if stop else SMS,
        keyword_at=at,
        created_at=now,
    )
    return Plan(Outcome.OPTED_OUT if stop else Outcome.RESUMED, None, event.key, event, profile=write)


# Less often instead of leaving.


def plan_frequency(
    state: SubscriptionState | None, list_id: str, frequency: str, ctx: AuditContext, now: datetime
) -> Plan:
    """Receive the list at `frequency` from now on. Only a subscription still receiving changes
    (choosing a frequency never brings back someone who left); the frequency held records nothing."""
    if state is None or state.status not in RECEIVING:
        return _done(Outcome.NOT_SUBSCRIBED, state.status if state else None)
    frequency = None if frequency == EVERY_EMAIL else frequency
    if state.frequency == frequency:
        return _done(Outcome.FREQUENCY_HELD, state.status, state.last_event)
    event = new_event(Action.FREQUENCY, list_id, ctx, now, frequency=frequency, frequency_before=state.frequency)
    write = SubscriptionWrite(list_id, Expect(RECEIVING, frequency=state.frequency), frequency=frequency)
    return Plan(
        Outcome.FREQUENCY_CHOSEN,
        state.status,
        event.key,
        event,
        writes=(write,),
        count_scope=list_id,
        counts=(f"frequency#{frequency or 'every'}",),
    )


def plan_undo_frequency(original: EventState | None, list_id: str, ctx: AuditContext, now: datetime) -> Plan:
    """Back to the frequency held before `original`, only while it is still the list's latest
    change (a later choice is never overridden; a second undo changes nothing). Planned blind:
    the preconditions say so."""
    if original is None or original.action != Action.FREQUENCY or original.list_id != list_id:
        return _done(Outcome.NOTHING_TO_UNDO)
    event = new_event(
        Action.FREQUENCY,
        list_id,
        ctx,
        now,
        frequency=original.frequency_before,
        frequency_before=original.frequency,
    )
    write = SubscriptionWrite(
        list_id,
        Expect(RECEIVING, last_event=original.key, frequency=original.frequency),
        frequency=original.frequency_before,
    )
    return Plan(
        Outcome.RESTORED,
        ACTIVE,
        event.key,
        event,
        writes=(write,),
        count_scope=list_id,
        counts=(f"frequency_undone#{original.frequency}",),
    )


# Ending a pause early, from the page of a link (the pause's own undo is `plan_undo`).


def plan_resume(state: SubscriptionState, list_id: str, ctx: AuditContext, now: datetime) -> Plan:
    """Receive the list again now. Only a subscription still paused resumes (a pause that ended by
    itself, or a later unsubscribe, is left as it is); the write expects the state read, so a
    change in between makes it fail rather than override it."""
    if state.status != PAUSED or state.paused_until is None or state.paused_until <= now:
        return _done(Outcome.NOT_SUBSCRIBED if state.status not in RECEIVING else Outcome.RESUMED, state.status)
    event = new_event(Action.RESUME, list_id, ctx, now)
    write = SubscriptionWrite(list_id, Expect(frozenset({PAUSED}), last_event=state.last_event), status=ACTIVE)
    return Plan(
        Outcome.RESUMED,
        ACTIVE,
        event.key,
        event,
        writes=(write,),
        count_scope=list_id,
        counts=(f"resume#{ctx.source}",),
    )


# Undo: an unsubscribe, a stop-everything or a pause, from the page that confirmed it.


def plan_undo(
    original: EventState | None,
    list_id: str,
    subscriptions: list[SubscriptionState],
    profile: ProfileState | None,
    ctx: AuditContext,
    now: datetime,
    sunset_due: datetime,
) -> Plan:
    """Revert `original` for the lists it still governs (their `last_event` is still it); a list
    that rejoins is next due for the sunset job on `sunset_due`. A list whose state changed since
    keeps it, so an undo never overrides a later choice; a second undo changes nothing. Undoing
    a stop-everything none of whose lists can come back is refused, unless it covered no list
    (then it only lifts the opt-out of future lists, once)."""
    if original is None or not undoable(original.action, original.source):
        return _done(Outcome.NOTHING_TO_UNDO)
    opted_out_by = profile.opted_out_event if profile is not None and profile.opted_out_all else None
    if opted_out_by is not None and opted_out_by != original.key:
        # A later stop-everything, complaint or erasure holds: undoing an earlier choice of one
        # list would say "subscribed again" while nothing may be sent.
        return _done(Outcome.NOTHING_TO_UNDO)
    covers_all = original.list_id == EVERY_LIST
    if not covers_all and original.list_id != list_id:
        return _done(Outcome.NOTHING_TO_UNDO)
    lists = set(original.lists) if covers_all else {original.list_id}
    to_restore = [s for s in subscriptions if s.list_id in lists and s.last_event == original.key]
    if not to_restore and (not covers_all or lists):
        return _done(Outcome.NOTHING_TO_UNDO)
    if covers_all and profile is not None and original.key in profile.undone:
        return _done(Outcome.NOTHING_TO_UNDO)
    returned = UNDO_ACTION[original.action]
    rejoins = original.action != Action.PAUSE  # a resume keeps the member count and the sunset clock
    event = new_event(returned, original.list_id, ctx, now, lists=original.lists if covers_all else None)
    writes = tuple(
        SubscriptionWrite(
            s.list_id,
            Expect(frozenset({s.status}), last_event=original.key),
            status=ACTIVE,
            sunset=Sunset.RESTART if rejoins else Sunset.KEEP,
            sunset_due=sunset_due if rejoins else None,
            members=1 if rejoins else 0,
            counts=(f"{returned}#{ctx.source}@{s.list_id}",) if covers_all else (),
        )
        for s in sorted(to_restore, key=lambda s: s.list_id)
    )
    lift = (
        ProfileWrite(expect_not_undone=original.key, opted_out_all=False, add_undone=original.key)
        if covers_all
        else None
    )
    return Plan(
        Outcome.RESTORED,
        ACTIVE,
        event.key,
        event,
        profile=lift,
        writes=writes,
        count_scope=EVERY_LIST if covers_all else original.list_id,
        counts=(f"{returned}_all#{ctx.source}",) if covers_all else (f"{returned}#{ctx.source}",),
    )


def undone_by(original: EventState | None, latest: EventState | None) -> str | None:
    """The event that already undid `original`, when the list's latest change `latest` is that
    undo (a repeated click on "undo"), else None."""
    if original is None or latest is None:
        return None
    if original.action == Action.FREQUENCY:
        same = (
            latest.action == Action.FREQUENCY
            and latest.frequency_before == original.frequency
            and latest.frequency == original.frequency_before
        )
    else:
        same = latest.action == UNDO_ACTION.get(original.action)
    return latest.key if same and latest.at >= original.at else None


# "Keep me subscribed" from the sunset job's re-permission email.


@dataclass(frozen=True)
class KeepDecision:
    """What a "keep me" on one list does: `engage` moves its engagement forward (conditional on
    the subscription still receiving); `resubscribe` names the lists to bring back, which the
    job itself ended."""

    outcome: Outcome
    engage: bool = False
    resubscribe: tuple[str, ...] = ()


def plan_keep(
    state: SubscriptionState | None,
    profile: ProfileState | None = None,
    asked_together: list[SubscriptionState] = (),
) -> KeepDecision:
    """ "Keep me subscribed" from a re-permission email, for the link's list as read (with the
    source of its latest change) and the other lists the same email asked about. A list still
    receiving is kept by engaging. After the grace period, the lists the job ended come back:
    the link's list and every list the email named that was unsubscribed since (a person's own
    unsubscribe is never overridden, and nothing comes back after they stopped everything)."""
    if state is None or state.status is None:
        return KeepDecision(Outcome.NOT_SUBSCRIBED)
    if state.status in RECEIVING:
        return KeepDecision(Outcome.KEPT, engage=True)
    if state.last_source != Source.SUNSET or (profile is not None and profile.opted_out_all):
        return KeepDecision(Outcome.ALREADY_UNSUBSCRIBED)
    ended = [s.list_id for s in asked_together if s.list_id != state.list_id and s.status == UNSUBSCRIBED]
    return KeepDecision(Outcome.KEPT_BY_RESUBSCRIBING, resubscribe=(state.list_id, *ended))


def chunks(items: tuple | list, size: int = LISTS_PER_TRANSACTION) -> list:
    """`items` in parts of at most `size` (one empty part for none)."""
    items = list(items)
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]
