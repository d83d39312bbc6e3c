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
from chalicelib.domain.consent.vocabulary import RECEIVING, UNSUBSCRIBED, Action, Outcome


def plan_unsubscribe(state: SubscriptionState | Unknown, list_id: str, ctx: AuditContext, now: datetime) -> Plan:
    """Repeating it changes nothing (the first `unsubscribed_at` stays). A subscription we never
    saw is recorded as unsubscribed, so the choice holds if the sender imports the address later.
    Planned blind (UNKNOWN), it expects a subscription still receiving: one round trip."""
    if was_read(state) and state.status == UNSUBSCRIBED:
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
            return already_done(Outcome.UNSUBSCRIBED, UNSUBSCRIBED, continuing)
        return Plan(Outcome.UNSUBSCRIBED, UNSUBSCRIBED, continuing, writes=writes, count_scope=EVERY_LIST)
    if not left and profile.opted_out_all:
        return already_done(Outcome.ALREADY_UNSUBSCRIBED, UNSUBSCRIBED, profile.opted_out_event)
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
