"""Undo, from the page that confirmed it: an unsubscribe, a stop-everything or a pause."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.consent.state import (
    EVERY_LIST,
    AuditContext,
    EventState,
    Expect,
    Plan,
    ProfileState,
    ProfileWrite,
    SubscriptionState,
    SubscriptionWrite,
    Sunset,
    already_done,
    new_event,
)
from chalicelib.domain.consent.vocabulary import ACTIVE, Action, Outcome, Source

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
        return already_done(Outcome.NOTHING_TO_UNDO)
    opted_out_by = profile.opted_out_event if profile is not None and profile.opted_out_all else None
    if opted_out_by is not None and opted_out_by != original.key:
        # A later stop-everything, complaint or erasure holds: undoing an earlier choice of one
        # list would say "subscribed again" while nothing may be sent.
        return already_done(Outcome.NOTHING_TO_UNDO)
    covers_all = original.list_id == EVERY_LIST
    if not covers_all and original.list_id != list_id:
        return already_done(Outcome.NOTHING_TO_UNDO)
    lists = set(original.lists) if covers_all else {original.list_id}
    to_restore = [s for s in subscriptions if s.list_id in lists and s.last_event == original.key]
    if not to_restore and (not covers_all or lists):
        return already_done(Outcome.NOTHING_TO_UNDO)
    if covers_all and profile is not None and original.key in profile.undone:
        return already_done(Outcome.NOTHING_TO_UNDO)
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
