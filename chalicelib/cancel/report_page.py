"""The cancellation report as a page: server-rendered SVG charts (each with a title, a
description and the numbers as a table beside it), no JavaScript, drawn 340 px wide so its 12 px
text stays 12 px on a 390 px phone."""

from __future__ import annotations

from datetime import date

from chalicelib.cancel.report import DEFAULT_WEEKS, save_rates
from chalicelib.domain.cancel import HOLDOUT, NO_OFFER
from chalicelib.domain.money import to_decimal

WIDTH = 340
BAR_X, BAR_W = 112, 170  # the rate bars: label column, then 0..100 %
ROW = 22
# Eight series colours, each at least 3:1 against white (WCAG 1.4.11 for graphics).
PALETTE = ("#1f5fbf", "#b3541e", "#2e7d32", "#8e24aa", "#c62828", "#00796b", "#5d4037", "#455a64", "#6a1b9a")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _arm_name(arm: str) -> str:
    return {HOLDOUT: "holdout", NO_OFFER: "no offer"}.get(arm, arm)


def rate_rows(data: dict) -> tuple[list[dict], int]:
    """Bars of save rate per (reason, arm) with their 95% interval as a whisker."""
    rows, y = [], 4
    for reason, entry in data["reasons"].items():
        rows.append({"kind": "reason", "y": y + 14, "label": reason})
        y += ROW
        for arm, counts in entry["arms"].items():
            rate = counts["save_rate"] or 0.0
            low, high = counts["save_rate_interval_95"] or (0.0, 0.0)
            rows.append(
                {
                    "kind": "arm",
                    "y": y,
                    "label": _arm_name(arm),
                    "holdout": arm == HOLDOUT,
                    "width": round(BAR_W * rate, 1),
                    "low": round(BAR_X + BAR_W * low, 1),
                    "high": round(BAR_X + BAR_W * high, 1),
                    "text": f"{counts['saved']}/{counts['sessions']}",
                }
            )
            y += ROW
    return rows, y + 4


def week_bars(over_time: dict) -> dict:
    """Stacked weekly bars of sessions by reason, with a legend under the plot."""
    weeks, reasons = over_time["weeks"], over_time["reasons"]
    top = max([sum(values[i] for values in reasons.values()) for i in range(len(weeks))] + [1])
    plot_x, plot_h, base = 34, 140, 160
    step = (WIDTH - plot_x - 4) / max(len(weeks), 1)
    bars, colours = [], {reason: PALETTE[n % len(PALETTE)] for n, reason in enumerate(reasons)}
    for i, week in enumerate(weeks):
        y = base
        for reason, values in reasons.items():
            if values[i]:
                height = round(plot_h * values[i] / top, 1)
                y -= height
                bars.append(
                    {
                        "x": round(plot_x + i * step + 2, 1),
                        "y": round(y, 1),
                        "w": round(step - 4, 1),
                        "h": height,
                        "colour": colours[reason],
                        "label": f"{week}: {reason} {values[i]}",
                    }
                )
    ticks = [
        {"x": round(plot_x + i * step + step / 2, 1), "text": week[5:]}
        for i, week in enumerate(weeks)
        if i % 3 == (len(weeks) - 1) % 3
    ]
    legend = [
        {"x": 4 + (n % 2) * 170, "y": base + 40 + (n // 2) * 18, "colour": colours[r], "label": r}
        for n, r in enumerate(reasons)
    ]
    height = base + 40 + ((len(reasons) + 1) // 2) * 18 + 4
    return {
        "bars": bars,
        "ticks": ticks,
        "legend": legend,
        "top": top,
        "base": base,
        "plot_x": plot_x,
        "height": height,
    }


def _money(values: dict[str, int]) -> list[str]:
    return [f"{to_decimal(minor, currency)} {currency} ({minor} minor units)" for currency, minor in values.items()]


def report_page(business: str, today: date, weeks: int = DEFAULT_WEEKS) -> str:
    from chalicelib.core.pages import render_plain

    data = save_rates(business, today, weeks)
    rows, rates_height = rate_rows(data)
    offers = [
        {**entry, "offer": offer, "rate": _percent(entry["save_rate"]), "value": _money(entry["value_given"])}
        for offer, entry in data["offers"].items()
    ]
    return render_plain(
        "cancel_report.html",
        data=data,
        width=WIDTH,
        bar_x=BAR_X,
        bar_w=BAR_W,
        rows=rows,
        rates_height=rates_height,
        weekly=week_bars(data["over_time"]),
        offers=offers,
        total_value=_money(data["value_given"]["total"]),
        percent=_percent,
    )
