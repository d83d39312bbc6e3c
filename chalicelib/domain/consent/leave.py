"""Leaving: one list (the one-click POST, the page's "this list", mailto) or every list and the lists
of the future (the page's "stop everything", and through it a complaint, SES's unsubscribe-all,
erasure)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.consent.state import (
    EVERY_LIST,
    NO_PROFILE,
    AuditContext,
    Expect,
    Plan,
    ProfileState,
    ProfileWrite,
    SubscriptionState,
    SubscriptionWrite,
    Sunset,
    Unknown,
    already_done,
    new_event,
    was_read,
)
from chalicelib.domain.consent.undo import undoable
from chalicelib.domain.consent.vocabulary import RECEIVING, UNSUBSCRIBED, Action, Outcome, Source


def _finality(source: str | None) -> int:
    """How far an opt-out of everything through `source` is from being undone: the person's own
    (the page, one-click) may be undone from its confirmation page; any other door's may not; a
    complaint is the strongest fact (senders must keep it); nothing is added after an erasure."""
    if undoable(Action.UNSUBSCRIBE_ALL, source):
        return 0
    return {Source.COMPLAINT: 2, Source.ERASURE: 3}.get(source, 1)


def _held_finality(profile: ProfileState) -> int:
    """The finality of the opt-out in force. One stored before its door was kept counts as the
    person's own when it names its event (so a later complaint is still recorded over it); one
    naming no event is an erasure's, which keeps no trail."""
    if profile.opted_out_source is None:
        return 0 if profile.opted_out_event is not None else _finality(Source.ERASURE)
    return _finality(profile.opted_out_source)


def _left_only_by_undoable_stop(state: SubscriptionState, profile: ProfileState) -> bool:
    """The list was left by the stop-everything in force, which its person may still undo: an
    undo would bring it back unless the list's own choice is recorded."""
    return (
        state.status == UNSUBSCRIBED
        and profile.opted_out_all
        and state.last_event is not None
        and state.last_event == profile.opted_out_event
        and _held_finality(profile) == 0
    )


def plan_unsubscribe(
    state: SubscriptionState | Unknown,
    list_id: str,
    ctx: AuditContext,
    now: datetime,
    profile: ProfileState | None = None,
) -> Plan:
    """Repeating it changes nothing (the first `unsubscribed_at` stays). A subscription we never
    saw is recorded as unsubscribed, so the choice holds if the sender imports the address later.
    Planned blind (UNKNOWN), it expects a subscription still receiving: one round trip.

    A list left only by a stop-everything that can still be undone (`profile`, as read) is not
    left by its own choice yet: this one is recorded on it (no counter moves: the person left
    once), so undoing the stop-everything leaves this list unsubscribed."""
    if was_read(state) and state.status == UNSUBSCRIBED:
        if profile is not None and _left_only_by_undoable_stop(state, profile):
            return _own_choice_after_stop(state, list_id, ctx, now)
        return already_done(Outcome.ALREADY_UNSUBSCRIBED, UNSUBSCRIBED, state.last_event)
    leaving = not was_read(state) or state.status is not None
    expect = RECEIVING if not was_read(state) else frozenset({state.status})
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


def _own_choice_after_stop(state: SubscriptionState, list_id: str, ctx: AuditContext, now: datetime) -> Plan:
    event = new_event(Action.UNSUBSCRIBE, list_id, ctx, now)
    # Still as the stop-everything left it: a second click finds the list's own event and stops.
    write = SubscriptionWrite(list_id, Expect(frozenset({UNSUBSCRIBED}), last_event=state.last_event))
    return Plan(Outcome.UNSUBSCRIBED, UNSUBSCRIBED, event.key, event, list_id, writes=(write,))


def plan_unsubscribe_all(
    profile: ProfileState | None,
    subscriptions: list[SubscriptionState],
    ctx: AuditContext,
    now: datetime,
    continuing: str | None = None,
) -> Plan:
    """Leave every list and opt out of future ones, as one consent event. Already done only when
    every list is left AND an opt-out of every list at least as final is recorded: a list left
    earlier (the usual order before a complaint) never makes the opt-out itself "already done",
    nor does the person's own stop-everything make a later complaint, SES unsubscribe-all or
    erasure one (recorded, it is the opt-out in force: an undo of the earlier one is refused).
    The same door again (a retried message, a second click) records nothing.

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
            return already_done(Outcome.UNSUBSCRIBED, UNSUBSCRIBED, continuing)
        return Plan(Outcome.UNSUBSCRIBED, UNSUBSCRIBED, continuing, writes=writes, count_scope=EVERY_LIST)
    adds = not profile.opted_out_all or _finality(ctx.source) > _held_finality(profile)
    if not left and not adds:
        return already_done(Outcome.ALREADY_UNSUBSCRIBED, UNSUBSCRIBED, profile.opted_out_event)
    event = new_event(Action.UNSUBSCRIBE_ALL, EVERY_LIST, ctx, now, lists=tuple(s.list_id for s in left))
    # Over an opt-out in force, only the one read (a concurrent copy of this fact is written once);
    # one no more final than it leaves it in force (its undo must not lift the stronger one).
    opt_out = ProfileWrite(
        expect_opted_out=profile.opted_out_all,
        expect_opted_out_event=profile.opted_out_event if profile.opted_out_all else None,
        opted_out_all=True,
        opted_out_event=event.key if adds else None,
        opted_out_source=str(ctx.source) if adds else None,
    )
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
