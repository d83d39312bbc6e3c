"""The words of "email me the code": amounts from minor units, in their currency's decimals."""

from datetime import UTC, datetime

import pytest

from chalicelib.domain.coupons import CodeState, OfferKind, Terms, TillRules
from chalicelib.offers.email import describe_offer


@pytest.mark.parametrize(
    ("terms", "words"),
    [
        (Terms(OfferKind.AMOUNT, amount=550, currency="USD"), "5.50 USD off"),
        (Terms(OfferKind.AMOUNT, amount=500, currency="JPY"), "500 JPY off"),
        (Terms(OfferKind.AMOUNT, amount=125, currency="BHD"), "0.125 BHD off"),
        (Terms(OfferKind.PERCENT, 12.5, currency="USD", max_discount=1500), "12.5% off"),
        (Terms(OfferKind.FREE_SHIPPING), "free shipping"),
    ],
)
def test_the_offer_in_words(terms, words):
    code = CodeState("ABCDE-FGHJK", "shop", "c1", "a", terms, TillRules(), datetime(2026, 1, 1, tzinfo=UTC))
    assert describe_offer(code) == words
