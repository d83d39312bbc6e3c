"""The cancellation report: save rate by reason and by offer against the holdout of the same
reasons, with the offer report's interval (Newcombe's hybrid score interval, only once both arms
have the minimum sample): the statistics are the offers job's, reused, not copied. Also reasons
over time (weekly) and the value accepted offers gave away, in integer minor units per currency."""

from __future__ import annotations

from datetime import date, timedelta

from chalicelib.domain.cancel import HOLDOUT, NO_OFFER
from chalicelib.offers.report import MIN_ARM_VISITORS, lift, wilson
from chalicelib.storage import cancel as store

COUNTERS = ("sessions", "saved", "cancelled", "undone")
DEFAULT_WEEKS = 12
MAX_WEEKS = 52


def _rate(counts: dict[str, int]) -> dict:
    sessions, saved = counts["sessions"], min(counts["saved"], counts["sessions"])
    low, high = wilson(saved, sessions)
    return {
        **counts,
        "save_rate": saved / sessions if sessions else None,
        "save_rate_interval_95": [low, high] if sessions else None,
    }


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for key in COUNTERS:
        into[key] = into.get(key, 0) + counts.get(key, 0)


def _money(values: dict[str, int]) -> dict[str, int]:
    return dict(sorted(values.items()))


def _by_offer(by_reason: dict[str, dict[str, dict[str, int]]], given: dict) -> dict:
    """Each offer over every reason it was shown for, against the holdout of those same reasons
    (the holdout is taken before the arm, so it is the fair comparison for each reason)."""
    offers: dict[str, dict] = {}
    for reason, arms in by_reason.items():
        for arm, counts in arms.items():
            if arm in (HOLDOUT, NO_OFFER):
                continue
            entry = offers.setdefault(arm, {"counts": {}, "holdout": {}, "reasons": []})
            _add(entry["counts"], counts)
            _add(entry["holdout"], arms.get(HOLDOUT, {}))
            entry["reasons"].append(reason)
    result = {}
    for arm, entry in sorted(offers.items()):
        counts, holdout = {k: entry["counts"].get(k, 0) for k in COUNTERS}, entry["holdout"]
        value: dict[str, int] = {}
        for (_, given_arm, currency), minor in given.items():
            if given_arm == arm:
                value[currency] = value.get(currency, 0) + minor
        result[arm] = {
            **_rate(counts),
            "reasons": sorted(entry["reasons"]),
            "holdout": {"sessions": holdout.get("sessions", 0), "saved": holdout.get("saved", 0)},
            "lift_vs_holdout": lift(
                counts["saved"], counts["sessions"], holdout.get("saved", 0), holdout.get("sessions", 0)
            ),
            "value_given": _money(value),
        }
    return result


def _weeks(today: date, weeks: int) -> list[date]:
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=n) for n in reversed(range(weeks))]


def _over_time(business: str, today: date, weeks: int) -> dict:
    starts = _weeks(today, weeks)
    rows = store.stats_by_day(business, starts[0], today)
    reasons: dict[str, list[int]] = {}
    saved, sessions = [0] * weeks, [0] * weeks
    for (day, reason), counts in rows.items():
        index = (date.fromisoformat(day) - starts[0]).days // 7
        reasons.setdefault(reason, [0] * weeks)[index] += counts["sessions"]
        sessions[index] += counts["sessions"]
        saved[index] += counts["saved"]
    return {
        "period": "week",
        "weeks": [start.isoformat() for start in starts],
        "sessions": sessions,
        "saved": saved,
        "reasons": dict(sorted(reasons.items())),
    }


def save_rates(business: str, today: date, weeks: int = DEFAULT_WEEKS) -> dict:
    """{reasons: {reason: {arms: {arm: counters + save rate}, lift_vs_holdout: {arm: ...}}},
    offers: {offer: ...}, over_time: {...}, value_given: {total, by_reason}, totals}."""
    by_reason: dict[str, dict[str, dict[str, int]]] = {}
    for (reason, arm), counts in store.stats_of(business).items():
        by_reason.setdefault(reason, {})[arm] = counts
    given = store.value_given_of(business)
    reasons = {}
    for reason, arms in sorted(by_reason.items()):
        holdout = arms.get(HOLDOUT)
        lifts = {}
        if holdout:
            for arm, counts in arms.items():
                if arm != HOLDOUT:
                    lifts[arm] = lift(counts["saved"], counts["sessions"], holdout["saved"], holdout["sessions"])
        reasons[reason] = {"arms": {arm: _rate(c) for arm, c in sorted(arms.items())}, "lift_vs_holdout": lifts}
    totals = {key: sum(c[key] for arms in by_reason.values() for c in arms.values()) for key in COUNTERS}
    total_value: dict[str, int] = {}
    value_by_reason: dict[str, dict[str, int]] = {}
    for (reason, _, currency), minor in given.items():
        total_value[currency] = total_value.get(currency, 0) + minor
        per_reason = value_by_reason.setdefault(reason, {})
        per_reason[currency] = per_reason.get(currency, 0) + minor
    return {
        "business": business,
        "min_arm_sessions": MIN_ARM_VISITORS,
        "totals": totals,
        "reasons": reasons,
        "offers": _by_offer(by_reason, given),
        "over_time": _over_time(business, today, weeks),
        "value_given": {
            "unit": "minor units of each currency",
            "total": _money(total_value),
            "by_reason": {r: _money(v) for r, v in sorted(value_by_reason.items())},
        },
    }
