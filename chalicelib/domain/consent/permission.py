"""Who may be sent to: one answer for every channel, from the subscription and the profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.consent.vocabulary import PAUSED, UNSUBSCRIBED


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
