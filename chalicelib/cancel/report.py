"""Save rate by reason and by offer arm against the holdout of the same reason, with the offer
report's interval (Newcombe's hybrid score interval, only once both arms have the minimum
sample): the statistics are the offers job's, reused, not copied."""

from __future__ import annotations

from chalicelib.domain.cancel import HOLDOUT
from chalicelib.offers.report import MIN_ARM_VISITORS, lift, wilson
from chalicelib.storage import cancel as store


def _arm(counts: dict[str, int]) -> dict:
    sessions, saved = counts["sessions"], min(counts["saved"], counts["sessions"])
    low, high = wilson(saved, sessions)
    return {
        **counts,
        "save_rate": saved / sessions if sessions else None,
        "save_rate_interval_95": [low, high] if sessions else None,
    }


def save_rates(business: str) -> dict:
    """{reasons: {reason: {arms: {arm: counters + save rate}, lift_vs_holdout: {arm: ...}}}}."""
    by_reason: dict[str, dict[str, dict[str, int]]] = {}
    for (reason, arm), counts in store.stats_of(business).items():
        by_reason.setdefault(reason, {})[arm] = counts
    reasons = {}
    for reason, arms in sorted(by_reason.items()):
        holdout = arms.get(HOLDOUT)
        lifts = {}
        if holdout:
            for arm, counts in arms.items():
                if arm != HOLDOUT:
                    lifts[arm] = lift(counts["saved"], counts["sessions"], holdout["saved"], holdout["sessions"])
        reasons[reason] = {"arms": {arm: _arm(c) for arm, c in sorted(arms.items())}, "lift_vs_holdout": lifts}
    totals = {
        key: sum(c[key] for arms in by_reason.values() for c in arms.values())
        for key in ("sessions", "saved", "cancelled", "undone")
    }
    return {"business": business, "min_arm_sessions": MIN_ARM_VISITORS, "totals": totals, "reasons": reasons}
