"""The "keep me subscribed" link of the sunset job's re-permission email."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.consent.state import ProfileState, SubscriptionState
from chalicelib.domain.consent.vocabulary import RECEIVING, UNSUBSCRIBED, Outcome, Source


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
