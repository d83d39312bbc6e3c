"""Money in integer minor units: ISO 4217 exponents, decimals read exactly at the edges."""

from decimal import Decimal

import pytest

from chalicelib.domain.money import MoneyError, exponent, percent_of, to_decimal, to_minor, to_number


def test_exponents_of_iso_4217():
    assert [exponent(c) for c in ("USD", "eur", "THB", "JPY", "KRW", "BHD", "KWD", "OMR", "JOD", "TND")] == [
        2,
        2,
        2,
        0,
        0,
        3,
        3,
        3,
        3,
        3,
    ]
    with pytest.raises(MoneyError):
        exponent("XYZ")


def test_decimals_in_become_exact_minor_units():
    assert to_minor(0.30, "USD") == 30 and to_minor(1.20, "USD") == 120
    assert 4 * to_minor(0.30, "USD") <= to_minor(1.20, "USD")  # 0.30 * 4 <= 1.20 is False in floats
    assert to_minor(284.50, "USD") == 28450 and to_minor("0.125", "BHD") == 125 and to_minor(500, "JPY") == 500
    assert to_minor(Decimal("19.99"), "EUR") == 1999


@pytest.mark.parametrize(("amount", "currency"), [(0.305, "USD"), (500.5, "JPY"), ("0.1255", "BHD"), ("1e-3", "EUR")])
def test_more_decimals_than_the_currency_has_are_refused_not_rounded(amount, currency):
    with pytest.raises(MoneyError):
        to_minor(amount, currency)


@pytest.mark.parametrize("amount", [True, None, "abc", float("nan"), float("inf"), [1]])
def test_what_is_no_amount_is_refused(amount):
    with pytest.raises(MoneyError):
        to_minor(amount, "USD")


def test_minor_units_out_as_decimals():
    assert to_decimal(28450, "USD") == Decimal("284.50") and to_number(28450, "USD") == 284.5
    assert to_number(500, "JPY") == 500 and isinstance(to_number(500, "JPY"), int)
    assert to_number(125, "BHD") == 0.125 and to_number(30, "USD") == 0.3


def test_percent_of_rounds_half_up_to_a_minor_unit():
    assert percent_of(28450, 10) == 2845 and percent_of(2150, 10) == 215
    assert percent_of(5, 10) == 1  # 0.5 cent rounds up
    assert percent_of(1_000_000, 10) == 100_000 and percent_of(999, 12.5) == 125
