"""The offers' contracts: the lean parsers of the browser paths accept exactly what the models
accept, the campaign builder's defaults are the model's, and refusals name the field."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.core.contracts import first_error, validate
from chalicelib.core.errors import Invalid
from chalicelib.offers import contracts
from chalicelib.offers.campaigns import build_campaign, parse_campaign
from chalicelib.offers.decision import parse_dismissal, parse_visit

ROOT = Path(__file__).resolve().parents[3]
VISIT = {"site_key": "shop", "visitor_id": "v1", "page_url": "https://shop.example/cart"}
HOSTILE = [None, True, False, 0, -1, 10**30, 1e308, math.nan, math.inf, "", "x" * 3000, "nul\u0000", "ok", [], {}]
VISIT_FIELDS = [*contracts.Visit.model_fields]
DISMISSAL = {"event": "dismiss", "how": "close", "visitor_id": "v1", "campaign_id": "c1"}
DISMISSAL_FIELDS = [*contracts.Dismissal.model_fields]


def _accepts(parse, body) -> bool:
    try:
        parse(body)
    except Invalid:
        return False
    return True


def _cases(base, fields, extra):
    yield base
    for name in fields:
        yield {key: value for key, value in base.items() if key != name}
        for value in [*HOSTILE, *extra.get(name, [])]:
            yield {**base, name: value}


VISIT_EXTRA = {
    "currency": ["usd", "EUR", "EURO", "XAU"],
    "device": ["mobile", "fridge"],
    "visitor_id": ["v w", "a" * 64, "a" * 65, "v\n"],
    "site_key": ["s", "s s"],
    "cart_value": [42.5, 1_000_000, 1_000_001, "80"],
    "seconds_on_page": [30, 86_400, 86_401],
    "customer_id": ["cust", "\x07", "c" * 129],
}


@pytest.mark.parametrize("body", list(_cases(VISIT, VISIT_FIELDS, VISIT_EXTRA)), ids=repr)
def test_the_lean_visit_parser_accepts_what_the_visit_model_accepts(body):
    lean = _accepts(lambda b: parse_visit(b, "Mozilla/5.0 Chrome/120"), body)
    model = first_error(contracts.Visit, body) is None
    assert lean == model, first_error(contracts.Visit, body)


DISMISSAL_EXTRA = {"how": ["esc", "never", "swipe"], "visitor_id": ["v w", "a" * 65], "customer_id": ["c" * 129]}


@pytest.mark.parametrize("body", list(_cases(DISMISSAL, DISMISSAL_FIELDS, DISMISSAL_EXTRA)), ids=repr)
def test_the_lean_dismissal_parser_accepts_what_the_dismissal_model_accepts(body):
    assert _accepts(parse_dismissal, body) == (first_error(contracts.Dismissal, body) is None)


MINIMAL = {"campaign_id": "c1", "offer": {"kind": "percent", "value": 10}, "budget": {"total_codes": 5}}
FULL_SECTIONS = {
    **MINIMAL,
    "targeting": {},
    "caps": {},
    "schedule": {},
    "redemption": {},
    "variants": [{"variant_id": "a"}],
}


def test_the_builders_defaults_are_the_models_defaults():
    """A campaign built from what the operator sent equals one built from everything the model
    fills in: the defaults the schema documents are the ones the builder uses."""
    for sent in (MINIMAL, FULL_SECTIONS):
        filled = contracts.Campaign.model_validate(FULL_SECTIONS).model_dump(mode="json")
        filled["variants"][0] = {k: v for k, v in filled["variants"][0].items() if v is not None}
        filled = {k: v for k, v in filled.items() if v is not None}
        filled["offer"] = {k: v for k, v in filled["offer"].items() if v is not None}
        filled["budget"] = {k: v for k, v in filled["budget"].items() if v is not None}
        filled["caps"] = {k: v for k, v in filled["caps"].items() if v is not None}
        filled["redemption"] = {k: v for k, v in filled["redemption"].items() if v is not None}
        filled["targeting"] = {k: v for k, v in filled["targeting"].items() if v is not None}
        built, full = build_campaign(sent), build_campaign(filled)
        assert built == full


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({**MINIMAL, "holdout": 0.95}, "holdout", "bad_campaign"),
        ({**MINIMAL, "priority": "1"}, "priority", "bad_campaign"),
        ({**MINIMAL, "holdout": math.nan}, "holdout", "bad_campaign"),
        ({**MINIMAL, "caps": {"max_per_visitor": True}}, "caps.max_per_visitor", "bad_campaign"),
        ({**MINIMAL, "variants": [{"variant_id": "a", "weight": 0}]}, "variants[0].weight", "bad_campaign"),
        ({**MINIMAL, "schedule": {"time_zone": "Mars/Base"}}, "schedule.time_zone", "bad_campaign"),
        ({**MINIMAL, "budget": {}}, "budget.total_codes is required", "bad_campaign"),
    ],
)
def test_a_refusal_names_the_field_without_pydantics_dump(body, field, code):
    with pytest.raises(Invalid) as error:
        parse_campaign(body)
    assert error.value.code == code
    assert field in error.value.message
    assert "pydantic" not in error.value.message and "input_value" not in error.value.message
    assert "\n" not in error.value.message


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"order_ref": "o1", "channel": "fax"}, "bad_channel"),
        ({"order_ref": "o1\x07", "channel": "web"}, "bad_order_ref"),
        ({"channel": "web"}, "bad_order_ref"),
        ({"order_ref": "o1", "channel": "web", "order_value": -1}, "bad_order_value"),
        ({"order_ref": "o1", "channel": "web", "first_order": "yes"}, "bad_first_order"),
        ({"order_ref": "o1", "channel": "web", "ticket": ""}, "bad_ticket"),
    ],
)
def test_till_refusals_keep_their_codes(body, code):
    with pytest.raises(Invalid) as error:
        validate(contracts.Redeem, body, lambda field: f"bad_{field}")
    assert error.value.code == code


def test_the_decision_and_one_click_paths_never_import_pydantic():
    code = (
        "import sys, app\n"
        "from chalicelib.offers import decision, service, site_cache\n"
        "from chalicelib.offers.campaigns import build_campaign\n"
        "build_campaign({'campaign_id': 'c', 'offer': {'kind': 'percent', 'value': 5}, 'budget': {'total_codes': 1}})\n"
        "print('pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
