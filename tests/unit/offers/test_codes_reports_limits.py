from chalicelib.offers import codes as coupon_codes
from chalicelib.offers import report as offer_report
from chalicelib.offers.limits import SlidingWindow


def test_codes_are_unique_readable_and_free_of_look_alikes():
    codes = {coupon_codes.new_code() for _ in range(5000)}
    assert len(codes) == 5000
    assert all(len(c) == 11 and c[5] == "-" for c in codes)
    assert not set("".join(codes)) & set("01OIL")


def test_typed_codes_are_normalized():
    code = coupon_codes.new_code()
    assert coupon_codes.normalize_code(code.lower().replace("-", " ")) == code
    assert coupon_codes.normalize_code(code.replace("-", "")) == code
    assert coupon_codes.normalize_code("ABCDE-FGHJ0") is None
    assert coupon_codes.normalize_code("x" * 100) is None
    assert coupon_codes.normalize_code(None) is None
    # Full-width forms (an East Asian keyboard), other dashes and spaces, as a till or phone types them.
    wide = "".join(chr(ord(c) + 0xFEE0) if c != "-" else "\uff0d" for c in code)
    assert coupon_codes.normalize_code(wide) == code
    assert coupon_codes.normalize_code(code.replace("-", "\u2013")) == code  # en dash
    assert coupon_codes.normalize_code(code.replace("-", "\u2212")) == code  # minus sign
    assert coupon_codes.normalize_code(code.replace("-", "\u3000")) == code  # ideographic space
    assert coupon_codes.normalize_code(code[:3] + "\u00a0" + code[3:]) == code  # no-break space


def test_lift_needs_a_minimum_holdout_sample():
    small = offer_report.report(
        {"a": {"visitors": 100, "conversions": 20}, "holdout": {"visitors": 10, "conversions": 1}}
    )
    assert small["arms"][0]["lift"] is None


def test_lift_against_the_holdout_with_an_interval():
    result = offer_report.report(
        {
            "a": {"visitors": 1000, "conversions": 150, "issued": 1000, "redemptions": 120},
            "holdout": {"visitors": 600, "conversions": 60},
        }
    )
    arm = next(r for r in result["arms"] if r["arm"] == "a")
    assert arm["conversion_rate"] == 0.15 and arm["redemption_rate"] == 0.12
    assert abs(arm["lift"]["difference"] - 0.05) < 1e-9
    low, high = arm["lift"]["interval_95"]
    assert low < 0.05 < high and low > 0  # significant at this sample size
    assert abs(arm["lift"]["relative"] - 0.5) < 1e-9


def test_the_sliding_window_sheds_excess_and_recovers():
    window = SlidingWindow(limit=3, seconds=60)
    assert [window.allow("ip", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert window.allow("other", now=3)
    assert window.allow("ip", now=61)
