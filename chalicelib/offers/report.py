"""Offer performance per variant, and lift against the holdout with a 95% interval."""

from __future__ import annotations

import math

MIN_HOLDOUT_VISITORS = 30
Z95 = 1.959964


def _rate(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def report(arms: dict[str, dict]) -> dict:
    """`arms`: variant id (or "holdout") -> counters {visitors, issued, impressions, claims, redemptions, conversions}."""
    holdout = arms.get("holdout", {})
    holdout_visitors = holdout.get("visitors", 0)
    holdout_rate = _rate(holdout.get("conversions", 0), holdout_visitors)
    rows = []
    for arm, counts in sorted(arms.items()):
        visitors = counts.get("visitors", 0)
        row = {
            "arm": arm,
            "visitors": visitors,
            "issued": counts.get("issued", 0),
            "impressions": counts.get("impressions", 0),
            "claims": counts.get("claims", 0),
            "redemptions": counts.get("redemptions", 0),
            "conversions": counts.get("conversions", 0),
            "redemption_rate": _rate(counts.get("redemptions", 0), counts.get("issued", 0)),
            "conversion_rate": _rate(counts.get("conversions", 0), visitors),
        }
        if arm != "holdout":
            row["lift"] = lift(row["conversion_rate"], visitors, holdout_rate, holdout_visitors)
        rows.append(row)
    return {"arms": rows, "holdout_visitors": holdout_visitors, "min_holdout_visitors": MIN_HOLDOUT_VISITORS}


def lift(rate: float | None, visitors: int, base: float | None, base_visitors: int) -> dict | None:
    """Absolute difference in conversion rate against the holdout (Wald interval), reported
    only once the holdout has enough visitors to mean something."""
    if rate is None or base is None or base_visitors < MIN_HOLDOUT_VISITORS or visitors == 0:
        return None
    difference = rate - base
    error = math.sqrt(rate * (1 - rate) / visitors + base * (1 - base) / base_visitors)
    return {
        "difference": difference,
        "interval_95": [difference - Z95 * error, difference + Z95 * error],
        "relative": difference / base if base else None,
    }
