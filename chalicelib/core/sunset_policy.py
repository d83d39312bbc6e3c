"""A list's sunset policy as a value, and when a member's window first ends: pure, so the
sunset job and the subscribe path (which sets a new member's first due date) share one rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from chalicelib.core.errors import Invalid


@dataclass(frozen=True)
class Policy:
    enabled: bool = True
    inactive_days: int = 180
    min_sends: int = 10
    grace_days: int = 14
    max_share: float = 0.05  # the safety brake: share of the list one run may move
    max_share_7d: float = 0.10  # ... that the runs of the last 7 days may move together
    max_share_30d: float = 0.20  # ... and of the last 30 days

    def as_dict(self) -> dict:
        return asdict(self)

    def window_share(self, window: str) -> float:
        return {"7d": self.max_share_7d, "30d": self.max_share_30d}[window]


DEFAULT_POLICY = Policy()
SHARES = ("max_share", "max_share_7d", "max_share_30d")


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
    for name in SHARES:
        share = merged[name]
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1:
            raise Invalid("bad_policy", f"{name} must be a fraction above 0 and at most 1")
    return Policy(**merged)


def first_due(policy: Policy, since: datetime) -> datetime:
    """When someone who last engaged (or joined) at `since` becomes inactive."""
    return since + timedelta(days=policy.inactive_days)
