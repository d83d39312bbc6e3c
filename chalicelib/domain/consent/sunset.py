"""The sunset job's last step: leaving a list the person no longer reads, on the job's clock."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.consent.state import (
    AuditContext,
    Expect,
    Plan,
    SubscriptionState,
    SubscriptionWrite,
    Sunset,
    already_done,
    new_event,
)
from chalicelib.domain.consent.vocabulary import ACTIVE, UNSUBSCRIBED, Action, Outcome, Source

PENDING = "pending"  # the sunset state of a subscription whose re-permission email is due or sent


def plan_sunset_unsubscribe(state: SubscriptionState, now: datetime) -> Plan:
    """The sunset job's last step, for a subscription it read: still active, re-permission email
    sent and the grace period over, its clock where the job read it (any engagement or choice
    since moves it, and the write fails). The job's read holds only the clock and the state, so
    the reminder is a precondition, not read here. Source "sunset", apart from a person's own
    choice; a later subscribe brings them back."""
    if state.status != ACTIVE:
        return already_done(Outcome.NOT_SUBSCRIBED, state.status, state.last_event)
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
