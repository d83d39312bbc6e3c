"""A list's sunset policy as operators send it, a pydantic model (in core: the subscribe path
and the sunset job both read policies through `core.sunset_policy.parse_policy`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from chalicelib.core.contracts import Contract

Share = Annotated[float, Field(gt=0, le=1)]


class SunsetPolicy(Contract):
    """A list's sunset policy; absent fields keep their defaults. The shares are the safety
    brake: the part of the list one run, the runs of 7 days and of 30 days may move."""

    enabled: bool = True
    inactive_days: Annotated[int, Field(ge=7, le=3650)] = 180
    min_sends: Annotated[int, Field(ge=0, le=10_000)] = 10
    grace_days: Annotated[int, Field(ge=1, le=365)] = 14
    max_share: Share = 0.05
    max_share_7d: Share = 0.10
    max_share_30d: Share = 0.20
