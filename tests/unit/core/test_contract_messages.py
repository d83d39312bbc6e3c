"""A refusal's sentence speaks of characters for a string and of an object for an object, as the
docs do, whatever pydantic's own words (items, a class name of ours)."""

import pytest

from chalicelib.core.contracts import first_error
from chalicelib.offers import contracts

BUDGET = {"total_codes": 5}
CAMPAIGN = {"offer": {"kind": "free_shipping"}, "budget": BUDGET}


@pytest.mark.parametrize(
    ("model", "body", "says"),
    [
        (contracts.Rollback, {"order_ref": ""}, "order_ref: string should have at least 1 character"),
        (contracts.Rollback, {"order_ref": "x" * 5000}, "order_ref: string should have at most 100 characters"),
        (contracts.Campaign, {**CAMPAIGN, "name": "x" * 300}, "name: string should have at most 200 characters"),
        (contracts.Campaign, {**CAMPAIGN, "budget": 5}, "budget: input should be an object"),
        (contracts.Campaign, {**CAMPAIGN, "offer": []}, "offer: input should be an object"),
    ],
)
def test_strings_and_objects_are_named_as_the_docs_name_them(model, body, says):
    assert first_error(model, body) == says


def test_a_list_keeps_its_items():
    body = {**CAMPAIGN, "variants": [{"variant_id": str(n)} for n in range(11)]}
    assert (
        first_error(contracts.Campaign, body) == "variants: list should have at most 10 items after validation, not 11"
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({**CAMPAIGN, "Budget": 5}, "unknown field Budget"),  # a payload's key, though it starts with a capital
        ({**CAMPAIGN, "offer": {"kind": "free_shipping", "Kind": "x"}}, "unknown field offer.Kind"),
        ({**CAMPAIGN, "bud\x00get": 5}, "unknown field bud\\x00get"),  # escaped, never raw
    ],
)
def test_an_unknown_key_is_named_whatever_its_case_and_never_raw(body, says):
    assert first_error(contracts.Campaign, body) == says
