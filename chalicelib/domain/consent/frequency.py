"""Less often instead of leaving: the page's `frequency:<id>` choice, and undoing one."""

from __future__ import annotations

import re
from datetime import datetime

from chalicelib.domain.consent.state import (
    AuditContext,
    EventState,
    Expect,
    Plan,
    SubscriptionState,
    SubscriptionWrite,
    already_done,
    new_event,
)
from chalicelib.domain.consent.vocabulary import ACTIVE, RECEIVING, Action, Outcome

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


def plan_frequency(
    state: SubscriptionState | None, list_id: str, frequency: str, ctx: AuditContext, now: datetime
) -> Plan:
    """Receive the list at `frequency` from now on. Only a subscription still receiving changes
    (choosing a frequency never brings back someone who left); the frequency held records nothing."""
    if state is None or state.status not in RECEIVING:
        return already_done(Outcome.NOT_SUBSCRIBED, state.status if state else None)
    frequency = None if frequency == EVERY_EMAIL else frequency
    if state.frequency == frequency:
        return already_done(Outcome.FREQUENCY_HELD, state.status, state.last_event)
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
        return already_done(Outcome.NOTHING_TO_UNDO)
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
