"""The report's arithmetic without I/O (storage replaced by fixed counters): an offer shown for
two reasons is compared with the holdout of those two reasons only; value sums per currency;
weeks bucket days Monday to Sunday."""

from datetime import date

import pytest

from chalicelib.cancel import report
from chalicelib.storage import cancel as store


def counts(sessions, saved, cancelled=None):
    return {"sessions": sessions, "saved": saved, "cancelled": cancelled or sessions - saved, "undone": 0}


@pytest.fixture
def counters(monkeypatch):
    stats = {
        ("too_expensive", "d25"): counts(30, 12),
        ("too_expensive", "holdout"): counts(20, 2),
        ("unused", "d25"): counts(10, 3),
        ("unused", "holdout"): counts(15, 1),
        ("missing_features", "holdout"): counts(50, 0),  # d25 is not shown for this reason
        ("switched_service", "none"): counts(9, 0),
    }
    days = {
        ("2026-11-30", "unused"): counts(2, 1),
        ("2026-12-06", "unused"): counts(1, 0),
        ("2026-11-29", "other"): counts(4, 0),
    }
    value = {("too_expensive", "d25", "USD"): 1500, ("unused", "d25", "USD"): 500, ("unused", "d25", "JPY"): 300}
    monkeypatch.setattr(store, "stats_of", lambda business: stats)
    monkeypatch.setattr(store, "stats_by_day", lambda business, first, last: days)
    monkeypatch.setattr(store, "value_given_of", lambda business: value)


@pytest.mark.usefixtures("counters")
def test_an_offer_is_compared_with_the_holdout_of_its_own_reasons():
    offer = report.save_rates("acme", date(2026, 12, 3), weeks=2)["offers"]["d25"]
    assert (offer["sessions"], offer["saved"]) == (40, 15)
    assert offer["holdout"] == {"sessions": 35, "saved": 3}  # not missing_features' 50
    assert offer["reasons"] == ["too_expensive", "unused"]
    assert offer["lift_vs_holdout"]["difference"] == pytest.approx(15 / 40 - 3 / 35)
    assert offer["value_given"] == {"JPY": 300, "USD": 2000}
    assert "none" not in report.save_rates("acme", date(2026, 12, 3))["offers"]


@pytest.mark.usefixtures("counters")
def test_weeks_start_on_monday_and_value_sums_per_currency():
    data = report.save_rates("acme", date(2026, 12, 6), weeks=2)  # a Sunday
    over = data["over_time"]
    assert over["weeks"] == ["2026-11-23", "2026-11-30"]
    assert over["reasons"] == {"other": [4, 0], "unused": [0, 3]}
    assert over["saved"] == [0, 1]
    assert data["value_given"]["total"] == {"JPY": 300, "USD": 2000}
    assert data["value_given"]["by_reason"]["unused"] == {"JPY": 300, "USD": 500}
