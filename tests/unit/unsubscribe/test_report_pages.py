"""The operators' report pages without storage: chart geometry stays inside its drawing, stacked
bars add up to the tallest month, and the sunset page names braked lists."""

import re

import pytest

from chalicelib.core.pages import render_plain
from chalicelib.unsubscribe.admin import CHART_BOTTOM, CHART_HEIGHT, CHART_LEFT, CHART_WIDTH, _bars, _month_range

MONTHS = ["2026-09", "2026-10", "2026-11"]


@pytest.mark.parametrize("stacked", [True, False])
def test_bars_stay_inside_the_chart(stacked):
    chart = _bars(MONTHS, [("page", [0, 3, 10]), ("one-click", [1, 0, 5])], stacked=stacked)
    assert chart["top"] == (15 if stacked else 10)
    for bar in chart["bars"]:
        assert bar["x"] >= CHART_LEFT and bar["x"] + bar["width"] <= CHART_WIDTH
        assert bar["y"] >= 0 and bar["y"] + bar["height"] <= CHART_HEIGHT - CHART_BOTTOM + 0.1
    assert all(bar["height"] > 0 for bar in chart["bars"])  # a zero draws nothing
    tallest = sum(bar["height"] for bar in chart["bars"] if bar["title"].startswith("2026-11"))
    if stacked:
        assert tallest == pytest.approx(CHART_HEIGHT - CHART_BOTTOM - 8, abs=0.2)


def test_an_empty_chart_has_no_bars_and_a_top_of_one():
    chart = _bars(MONTHS, [], stacked=True)
    assert chart["bars"] == [] and chart["top"] == 1 and len(chart["labels"]) == 3


def test_month_ranges():
    from datetime import UTC, datetime

    now = datetime(2026, 1, 15, tzinfo=UTC)
    assert _month_range(None, None, now)[0] == "2025-02" and _month_range(None, None, now)[-1] == "2026-01"
    assert _month_range("2025-11", "2026-02", now) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert _month_range(None, "0000-03", now) == ["0000-01", "0000-02", "0000-03"]


def test_the_sunset_page_draws_each_funnel_and_names_braked_lists():
    runs = [
        {
            "run_id": "r1",
            "started_at": "2026-11-23T03:00:00+00:00",
            "status": "done",
            "dry_run": False,
            "funnel": {"due": 120, "emailed": 100, "kept": 30, "unsubscribed": 60},
            "braked_lists": ["promo"],
        },
        {
            "run_id": "r0",
            "started_at": "2026-11-22T03:00:00+00:00",
            "status": "done",
            "dry_run": True,
            "funnel": {"due": 0, "emailed": 0, "kept": 0, "unsubscribed": 0},
            "braked_lists": [],
        },
    ]
    html = render_plain("sunset_report.html", runs=runs, steps=["due", "emailed", "kept", "unsubscribed"])
    assert html.count('role="img"') == 2 and "Braked: promo" in html and "dry run" in html
    widths = [float(w) for w in re.findall(r'<rect class="bar"[^>]* width="([\d.]+)"', html)]
    assert max(widths) == 400 and all(0 <= w <= 400 for w in widths)
    empty = render_plain("sunset_report.html", runs=[], steps=["due"])
    assert "The sunset job has not run yet." in empty


def test_the_sunset_page_shows_failures_and_reschedules_next_to_due_and_emailed():
    run = {
        "run_id": "r2",
        "started_at": "2026-11-24T03:00:00+00:00",
        "status": "done",
        "dry_run": False,
        "funnel": {"due": 10, "emailed": 6, "kept": 0, "unsubscribed": 0},
        "not_emailed": {"email_failed": 3, "rescheduled": 1},
        "braked_lists": [],
    }
    html = render_plain("sunset_report.html", runs=[run], steps=["due", "emailed", "kept", "unsubscribed"])
    assert "<strong>3</strong> email failed" in html and "<strong>1</strong> rescheduled" in html
