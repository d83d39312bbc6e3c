"""Offer performance per arm (each variant and the holdout): the funnel from visitors to
conversions, the discount value issued and redeemed, and lift against the holdout with a 95%
interval that behaves on small samples (Newcombe's hybrid score interval from Wilson intervals),
reported only once every arm compared has enough visitors."""

from __future__ import annotations

import math

MIN_ARM_VISITORS = 30  # on the variant and on the holdout alike
Z95 = 1.959964
FUNNEL = ("visitors", "impressions", "claims", "redemptions", "conversions")


def _rate(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion: inside [0, 1] whatever the sample."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    lower = 0.0 if successes == 0 else max(0.0, centre - half)
    upper = 1.0 if successes == trials else min(1.0, centre + half)
    return lower, upper


def newcombe(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2 (his method 10): always inside [-1, 1]."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    difference = p1 - p2
    lower = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, lower), min(1.0, upper)


def lift(conversions: int, visitors: int, base_conversions: int, base_visitors: int) -> dict | None:
    """Absolute difference in conversion rate against the holdout, with its interval; None until
    both arms have `MIN_ARM_VISITORS` visitors."""
    if visitors < MIN_ARM_VISITORS or base_visitors < MIN_ARM_VISITORS:
        return None
    conversions, base_conversions = min(conversions, visitors), min(base_conversions, base_visitors)
    rate, base = conversions / visitors, base_conversions / base_visitors
    lower, upper = newcombe(conversions, visitors, base_conversions, base_visitors)
    return {
        "difference": rate - base,
        "interval_95": [lower, upper],
        "relative": (rate - base) / base if base else None,
        "method": "newcombe-wilson",
    }


def report(arms: dict[str, dict]) -> dict:
    """`arms`: variant id (or "holdout") -> counters {visitors, issued, impressions, claims,
    redemptions, conversions, dismissals, rollbacks, value_issued, value_redeemed}."""
    holdout = arms.get("holdout", {})
    base_visitors, base_conversions = int(holdout.get("visitors", 0)), int(holdout.get("conversions", 0))
    rows = []
    for arm, counts in sorted(arms.items()):
        visitors = int(counts.get("visitors", 0))
        row = {"arm": arm, **{step: int(counts.get(step, 0)) for step in FUNNEL}}
        row["issued"] = int(counts.get("issued", 0))
        row.update(
            dismissals=int(counts.get("dismissals", 0)),
            rollbacks=int(counts.get("rollbacks", 0)),
            value_issued=round(float(counts.get("value_issued", 0)), 2),
            value_redeemed=round(float(counts.get("value_redeemed", 0)), 2),
            redemption_rate=_rate(row["redemptions"], row["issued"]),
            conversion_rate=_rate(row["conversions"], visitors),
        )
        if arm != "holdout":
            row["lift"] = lift(row["conversions"], visitors, base_conversions, base_visitors)
        rows.append(row)
    return {"arms": rows, "holdout_visitors": base_visitors, "min_arm_visitors": MIN_ARM_VISITORS}
