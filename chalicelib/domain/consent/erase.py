"""Erasure: the person is forgotten, the choice is kept."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.consent.leave import plan_unsubscribe_all
from chalicelib.domain.consent.state import AuditContext, Plan, ProfileState, SubscriptionState
from chalicelib.domain.consent.vocabulary import Source


def plan_erase(profile: ProfileState | None, subscriptions: list[SubscriptionState], now: datetime) -> Plan:
    """Erasure forgets the person and keeps the choice: first every list is left and every
    future list refused, as a stop-everything of source "erasure" (member counts stay right);
    storage then rewrites what is left without the address or the trail."""
    return plan_unsubscribe_all(profile, subscriptions, AuditContext(Source.ERASURE), now)
