"""Lift against the holdout: Newcombe's hybrid score interval, checked against the values his
1998 paper publishes, and the behaviour the old Wald interval got wrong."""

import pytest

from chalicelib.offers.report import MIN_ARM_VISITORS, lift, newcombe, report, wilson


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),  # Newcombe (1998), Statistics in Medicine 17, table II, method 10
        (9, 10, 3, 10, 0.1705, 0.8090),
        (10, 10, 0, 20, 0.6791, 1.0000),
    ],
)
def test_newcombe_matches_the_published_values(x1, n1, x2, n2, low, high):
    lower, upper = newcombe(x1, n1, x2, n2)
    assert (round(lower, 4), round(upper, 4)) == (low, high)


def test_the_interval_never_leaves_minus_one_to_one_and_holds_the_estimate():
    for x1, n1, x2, n2 in ((0, 30, 30, 30), (30, 30, 0, 30), (3, 3, 1, 30), (0, 1, 1, 1), (15, 31, 16, 33)):
        lower, upper = newcombe(x1, n1, x2, n2)
        assert -1 <= lower <= x1 / n1 - x2 / n2 <= upper <= 1
    assert wilson(0, 10)[0] == 0 and wilson(10, 10)[1] == 1


def test_small_arms_get_no_lift_on_either_side():
    assert lift(3, 3, 1, 30) is None  # the old Wald interval said [0.902, 1.031] here
    assert lift(3, MIN_ARM_VISITORS, 1, 29) is None
    assert lift(10, MIN_ARM_VISITORS, 1, MIN_ARM_VISITORS)["method"] == "newcombe-wilson"


def test_the_report_carries_the_funnel_and_value_per_arm():
    arms = {
        "a": {
            "visitors": 40,
            "impressions": 35,
            "claims": 20,
            "redemptions": 8,
            "conversions": 12,
            "issued": 38,
            "value_issued": 123.456,
            "value_redeemed": 40,
        },
        "holdout": {"visitors": 40, "conversions": 5},
    }
    [a, holdout] = report(arms)["arms"]
    assert [a[s] for s in ("visitors", "impressions", "claims", "redemptions", "conversions")] == [40, 35, 20, 8, 12]
    assert (a["value_issued"], a["value_redeemed"], holdout["arm"]) == (123.46, 40.0, "holdout")
    assert a["lift"]["interval_95"][0] < a["lift"]["difference"] < a["lift"]["interval_95"][1]
