"""Joining a list (an import or the API), and consent given again (`resubscribe`)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.consent.state import (
    UNKNOWN,
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
from chalicelib.domain.consent.vocabulary import ACTIVE, RECEIVING, UNSUBSCRIBED, Action, Outcome


def plan_subscribe(
    state: SubscriptionState | Unknown,
    list_id: str,
    email: str,
    ctx: AuditContext,
    now: datetime,
    sunset_due: datetime,
    resubscribe: bool = False,
    profile: ProfileState | Unknown = UNKNOWN,
) -> Plan:
    """Someone who unsubscribed is never brought back by an import; only an explicit
    `resubscribe` does that (and it lifts an opt-out of every list). Someone who stopped
    everything (or complained, or was erased) left the lists to come as well: joining any list is
    `previously_unsubscribed` for them too. Planned blind (UNKNOWN), the profile's "not opted out
    of everything" is a precondition of the same transaction."""
    allowed = frozenset({None, UNSUBSCRIBED} if resubscribe else {None})
    if was_read(profile) and profile.opted_out_all and not resubscribe:
        return already_done(Outcome.PREVIOUSLY_UNSUBSCRIBED, UNSUBSCRIBED, profile.opted_out_event)
    if was_read(state):
        if state.status in RECEIVING:
            return already_done(Outcome.ALREADY_SUBSCRIBED, state.status, state.last_event)
        if state.status == UNSUBSCRIBED and not resubscribe:
            return already_done(Outcome.PREVIOUSLY_UNSUBSCRIBED, UNSUBSCRIBED, state.last_event)
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
