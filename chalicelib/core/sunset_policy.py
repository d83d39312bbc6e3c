"""A list's sunset policy as a value, and when a member's window first ends: pure, so the
sunset job and the subscribe path (which sets a new member's first due date) share one rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta


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
    """A policy as `core.sunset_contract.SunsetPolicy` takes it (None: the defaults)."""
    if data is None:
        return DEFAULT_POLICY
    from chalicelib.core.contracts import validate
    from chalicelib.core.sunset_contract import SunsetPolicy

    return Policy(**validate(SunsetPolicy, data, "bad_policy").model_dump())


def first_due(policy: Policy, since: datetime) -> datetime:
    """When someone who last engaged (or joined) at `since` becomes inactive."""
    return since + timedelta(days=policy.inactive_days)
