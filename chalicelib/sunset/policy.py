"""The sunset policy of a list, and the rules of the inactive-subscriber job, free of storage.

A subscription carries its next due date in a sparse index keyed `YYYY-MM-DD#<shard>`, present
only while it is active or pending, so the daily job reads about as many items as are due.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from chalicelib.core.errors import Invalid
from chalicelib.core.ids import SHARDS

__all__ = ["SHARDS"]
RESCHEDULE_FEW_SENDS = timedelta(days=14)  # inactive but not yet sent enough: look again later


@dataclass(frozen=True)
class Policy:
    enabled: bool = True
    inactive_days: int = 180
    min_sends: int = 10
    grace_days: int = 14
    max_share: float = 0.05  # the safety brake

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_POLICY = Policy()


def parse_policy(data) -> Policy:
    if data is None:
        return DEFAULT_POLICY
    if not isinstance(data, dict) or set(data) - set(DEFAULT_POLICY.as_dict()):
        raise Invalid("bad_policy", f"a sunset policy takes {', '.join(DEFAULT_POLICY.as_dict())}")
    merged = {**DEFAULT_POLICY.as_dict(), **data}
    if not isinstance(merged["enabled"], bool):
        raise Invalid("bad_policy", "enabled must be true or false")
    for name, low, high in (("inactive_days", 7, 3650), ("min_sends", 0, 10_000), ("grace_days", 1, 365)):
        value = merged[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid("bad_policy", f"{name} must be a whole number from {low} to {high}")
    share = merged["max_share"]
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
        raise Invalid("bad_policy", "max_share must be a fraction above 0 and at most 1")
    return Policy(**merged)


def first_due(policy: Policy, since: datetime) -> datetime:
    """When someone who last engaged (or joined) at `since` becomes inactive."""
    return since + timedelta(days=policy.inactive_days)


@dataclass(frozen=True)
class Candidate:
    """What the job reads of one due subscription."""

    subscriber_id: str
    list_id: str
    status: str
    subscribed_at: datetime | None
    last_engaged_at: datetime | None
    sends_since_engaged: int
    sunset_state: str | None
    pending_since: datetime | None
    reminder_sent_at: datetime | None
    due: str


def next_step(candidate: Candidate, policy: Policy, now: datetime) -> tuple[str, datetime | None]:
    """("remind" | "unsubscribe" | "reschedule" | "skip:<why>", new due date for a reschedule)."""
    if not policy.enabled:
        return "skip:policy_disabled", None
    if candidate.status == "unsubscribed":
        return "skip:unsubscribed", None
    since = max(
        d for d in (candidate.subscribed_at, candidate.last_engaged_at, datetime.min.replace(tzinfo=now.tzinfo)) if d
    )
    if candidate.sunset_state == "pending":
        if candidate.reminder_sent_at is None:
            return "remind", None  # marked pending, but the email never went out: send it now
        if now < candidate.reminder_sent_at + timedelta(days=policy.grace_days):
            return "reschedule", candidate.reminder_sent_at + timedelta(days=policy.grace_days)
        return "unsubscribe", None
    if candidate.status == "paused":
        return "reschedule", now + timedelta(days=policy.inactive_days)
    if now < first_due(policy, since):
        return "reschedule", first_due(policy, since)  # engaged since it was scheduled
    if candidate.sends_since_engaged < policy.min_sends:
        return "reschedule", now + RESCHEDULE_FEW_SENDS
    return "remind", None


def brake_engaged(moves: int, members: int, policy: Policy) -> bool:
    """Broken tracking must not empty a list: too large a share at once stops the run for it."""
    return moves > 0 and moves > policy.max_share * max(members, 0)


def policy_of(list_id: str) -> Policy:
    """The list's sunset policy (the defaults when it has none)."""
    from chalicelib.storage import lists

    return parse_policy(lists.sunset_policy_of(list_id))
