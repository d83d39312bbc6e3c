"""A pause instead of leaving, and ending one early from the page of a link."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chalicelib.domain.consent.state import (
    AuditContext,
    Expect,
    Plan,
    SubscriptionState,
    SubscriptionWrite,
    Unknown,
    already_done,
    new_event,
    was_read,
)
from chalicelib.domain.consent.vocabulary import ACTIVE, PAUSED, RECEIVING, Action, Outcome

# A repeated pause that would move its end by less than this is the same pause (a double click).
PAUSE_REPEAT_WINDOW = timedelta(hours=1)


def plan_pause(
    state: SubscriptionState | Unknown, list_id: str, until: datetime, ctx: AuditContext, now: datetime
) -> Plan:
    """Pause until `until`. Pausing again extends the pause; the same pause again (a double
    click, a retry) records nothing. Pausing never brings back someone who left."""
    ends_before = until - PAUSE_REPEAT_WINDOW
    expect = Expect(RECEIVING, pause_ends_before=ends_before)
    if was_read(state):
        if state.status not in RECEIVING:
            return already_done(Outcome.NOT_SUBSCRIBED, state.status, state.last_event)
        if not expect.holds(state):
            return already_done(Outcome.ALREADY_PAUSED, PAUSED, state.last_event)
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


def plan_resume(state: SubscriptionState, list_id: str, ctx: AuditContext, now: datetime) -> Plan:
    """Receive the list again now. Only a subscription still paused resumes (a pause that ended by
    itself, or a later unsubscribe, is left as it is); the write expects the state read, so a
    change in between makes it fail rather than override it."""
    if state.status != PAUSED or state.paused_until is None or state.paused_until <= now:
        return already_done(Outcome.NOT_SUBSCRIBED if state.status not in RECEIVING else Outcome.RESUMED, state.status)
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
