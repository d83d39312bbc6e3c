"""Exit-intent decision rules, without storage."""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import Invalid
from chalicelib.offers.campaigns import parse_campaign
from chalicelib.offers.decision import decide, parse_visit
from chalicelib.storage.visitor_state import CampaignVisit as CampaignState

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


def campaign(**overrides):
    data = {
        "campaign_id": "c1",
        "offer": {"kind": "percent", "value": 10},
        "budget": {"total_codes": 100},
        "targeting": {"paths": ["/shop/*", "/cart"], "min_cart_value": 50, "currency": "USD"},
        **overrides,
    }
    return parse_campaign(data)


def visit(**overrides):
    body = {
        "site_key": "s",
        "visitor_id": "v1",
        "page_url": "https://shop.example/cart",
        "cart_value": 80,
        "currency": "USD",
        **overrides,
    }
    return parse_visit(body, overrides.pop("ua", CHROME))


def test_a_matching_visitor_gets_an_offer():
    decision = decide([campaign()], visit(), {}, NOW)
    assert (
        decision.show
        and decision.issue
        and decision.campaign.campaign_id == "c1"
        and decision.variant.variant_id == "a"
    )


@pytest.mark.parametrize(
    "visit_overrides, reason",
    [
        ({"page_url": "https://shop.example/about"}, "no_campaign"),
        ({"cart_value": 10}, "no_campaign"),
        ({"currency": "EUR"}, "no_campaign"),
        ({"device": "mobile"}, "no_campaign"),
        ({"page_url": "https://shop.example/u/k1.x.y..z"}, "excluded_page"),
        ({"page_url": "https://shop.example/shop/checkout/complete"}, "excluded_page"),
    ],
)
def test_targeting_and_excluded_pages(visit_overrides, reason):
    c = campaign(
        targeting={
            "paths": ["/shop/*", "/cart", "/u/*"],
            "min_cart_value": 50,
            "currency": "USD",
            "devices": ["desktop"],
        }
    )
    assert decide([c], visit(**visit_overrides), {}, NOW).reason == reason


def test_kill_switch_and_schedule_come_first():
    assert decide([campaign(enabled=False)], visit(), {}, NOW).reason == "kill_switch"
    later = (NOW + timedelta(days=1)).isoformat()
    assert decide([campaign(starts_at=later)], visit(), {}, NOW).reason == "outside_schedule"
    assert decide([campaign(ends_at=NOW.isoformat())], visit(), {}, NOW).reason == "outside_schedule"


def test_too_early_on_the_page():
    assert decide([campaign(min_seconds_on_page=5)], visit(seconds_on_page=2), {}, NOW).reason == "too_early"
    assert decide([campaign(min_seconds_on_page=5)], visit(seconds_on_page=6), {}, NOW).show


@pytest.mark.parametrize("ua", ["Mozilla/5.0 HeadlessChrome/130.0", "Googlebot/2.1", "python-requests/2.32", ""])
def test_bots_are_not_shown_anything(ua):
    assert (
        decide(
            [campaign()],
            parse_visit(
                {"site_key": "s", "visitor_id": "v", "page_url": "/cart", "cart_value": 80, "currency": "USD"}, ua
            ),
            {},
            NOW,
        ).reason
        == "bot"
    )


def test_no_visitor_id_is_treated_as_a_bot():
    assert decide([campaign()], visit(visitor_id=None), {}, NOW).reason == "bot"


def test_a_still_valid_offer_is_given_back_unchanged():
    state = CampaignState(
        offers=1, last_offer_at=NOW, code="ABCDE-FGHJK", expires_at=NOW + timedelta(minutes=5), variant_id="a", arm="a"
    )
    decision = decide([campaign()], visit(), {"c1": state}, NOW)
    assert decision.show and not decision.issue and decision.existing.code == "ABCDE-FGHJK"


def test_frequency_caps():
    c = campaign(caps={"cooldown_days": 7, "max_per_visitor": 2})
    expired_recently = CampaignState(
        offers=1, last_offer_at=NOW - timedelta(days=2), code="X", expires_at=NOW - timedelta(days=1)
    )
    assert decide([c], visit(), {"c1": expired_recently}, NOW).reason == "capped"
    after_cooldown = CampaignState(
        offers=1, last_offer_at=NOW - timedelta(days=8), code="X", expires_at=NOW - timedelta(days=8)
    )
    assert decide([c], visit(), {"c1": after_cooldown}, NOW).issue
    used_up = CampaignState(offers=2, last_offer_at=NOW - timedelta(days=30))
    assert decide([c], visit(), {"c1": used_up}, NOW).reason == "capped"


def test_priority_picks_the_campaign_and_a_capped_one_falls_through():
    high, low = campaign(campaign_id="high", priority=10), campaign(campaign_id="low", priority=1)
    assert decide([low, high], visit(), {}, NOW).campaign.campaign_id == "high"
    capped = {"high": CampaignState(offers=99)}
    assert decide([low, high], visit(), capped, NOW).campaign.campaign_id == "low"


def test_holdout_and_variants_are_sticky_and_weighted():
    c = campaign(holdout=0.2, variants=[{"variant_id": "a", "weight": 3}, {"variant_id": "b", "weight": 1}])
    outcomes = Counter()
    for i in range(4000):
        d = decide([c], visit(visitor_id=f"visitor{i}"), {}, NOW)
        outcomes["holdout" if d.reason == "holdout" else d.variant.variant_id] += 1
        assert decide([c], visit(visitor_id=f"visitor{i}"), {}, NOW).reason == d.reason  # sticky
    assert 700 < outcomes["holdout"] < 900
    assert 2.5 < outcomes["a"] / outcomes["b"] < 3.5


@pytest.mark.parametrize(
    "body",
    [
        {"visitor_id": "v", "page_url": "/"},
        {"site_key": "s", "visitor_id": "v"},
        {"site_key": "s", "visitor_id": "v", "page_url": "/", "cart_value": -1},
        {"site_key": "s", "visitor_id": "v", "page_url": "/", "cart_value": 1e12},
        {"site_key": "s", "visitor_id": "v", "page_url": "/", "cart_value": "80"},
        {"site_key": "s", "visitor_id": "v", "page_url": "/", "device": "fridge"},
        {"site_key": "s", "visitor_id": "v w", "page_url": "/"},
        {"site_key": "s", "visitor_id": "v", "page_url": "/", "currency": "EURO"},
        {"site_key": "s", "visitor_id": "v", "page_url": "/", "known_customer": "yes"},
    ],
)
def test_bad_visits_are_rejected(body):
    with pytest.raises(Invalid):
        parse_visit(body, CHROME)


@pytest.mark.parametrize(
    "overrides",
    [
        {"offer": {"kind": "percent", "value": 150}},
        {"offer": {"kind": "amount", "value": 5}},
        {"offer": {"kind": "bogof"}},
        {"budget": {}},
        {"holdout": 0.95},
        {"variants": [{"variant_id": "holdout"}]},
        {"variants": [{"variant_id": "a"}, {"variant_id": "a"}]},
        {"starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-11-01T00:00:00Z"},
        {"starts_at": "2026-12-01T00:00:00"},
        {"targeting": {"devices": ["watch"]}},
        {"caps": {"max_per_visitor": 0}},
        {"campaign_id": "has space"},
    ],
)
def test_bad_campaigns_are_rejected(overrides):
    with pytest.raises(Invalid):
        campaign(**overrides)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"caps": {"cooldon_days": 3}}, "caps.cooldon_days"),
        ({"budgte": {"total_codes": 3}}, "budgte"),
        ({"targeting": {"path": ["/x"]}}, "targeting.path"),
        ({"offer": {"kind": "percent", "value": 10, "expiry": 5}}, "offer.expiry"),
        ({"variants": [{"variant_id": "a", "wieght": 2}]}, "variants[0].wieght"),
    ],
)
def test_unknown_campaign_fields_are_refused_by_name(change, named):
    base = {"campaign_id": "c1", "offer": {"kind": "percent", "value": 10}, "budget": {"total_codes": 5}}
    with pytest.raises(Invalid) as error:
        parse_campaign({**base, **change})
    assert f"unknown field {named}" in str(error.value)


@pytest.mark.parametrize("currency", ["ABC", "ZZZ", "ÄÖÜ", "usd1", "XAU"])
def test_only_iso_4217_currencies_pass(currency):
    base = {
        "campaign_id": "c1",
        "offer": {"kind": "amount", "value": 5, "currency": currency},
        "budget": {"total_codes": 5},
    }
    with pytest.raises(Invalid):
        parse_campaign(base)
    assert (
        parse_campaign({**base, "offer": {"kind": "amount", "value": 5, "currency": "thb"}}).variants[0].offer.currency
        == "THB"
    )


@pytest.mark.parametrize(
    "minimum, currency, cart, shown",
    [
        (50, "USD", 50, True),
        (50, "USD", 49.99, False),
        (50, "USD", 49.999, False),  # more decimals than USD has: compared exactly, never rounded up
        (0.3, "USD", 0.1 + 0.2, True),  # 0.30000000000000004 is at least 0.30
        (100.1, "USD", 100.09, False),
        (5000, "JPY", 5000, True),
        (5000, "JPY", 4999, False),
        (1.005, "BHD", 1.005, True),
        (1.005, "BHD", 1.004, False),
    ],
)
def test_the_minimum_cart_is_compared_exactly_in_minor_units(minimum, currency, cart, shown):
    c = campaign(targeting={"paths": ["/*"], "min_cart_value": minimum, "currency": currency})
    assert c.targeting.min_cart == round(minimum * 10 ** {"JPY": 0, "BHD": 3}.get(currency, 2))
    assert decide([c], visit(cart_value=cart, currency=currency), {}, NOW).show is shown


def test_a_minimum_cart_without_a_currency_is_refused_when_the_campaign_is_made():
    with pytest.raises(Invalid, match="targeting.currency is required"):
        campaign(targeting={"paths": ["/*"], "min_cart_value": 50})
    with pytest.raises(Invalid, match="more decimals than JPY"):
        campaign(targeting={"paths": ["/*"], "min_cart_value": 49.5, "currency": "JPY"})
    assert campaign(targeting={"paths": ["/*"], "min_cart_value": 0}).targeting.min_cart == 0
