"""Issuing, capping, holding out and redeeming offers against moto's DynamoDB."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import Invalid, NotFound
from chalicelib.offers import admin as site_admin
from chalicelib.offers import service as offer_service
from chalicelib.offers.decision import parse_visit
from chalicelib.storage import offers

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ORIGIN = "https://shop.example"


@pytest.fixture
def shop(aws):
    site_admin.create_site("shop", "Shop", [ORIGIN])
    return "shop"


def put(campaign_id="c1", **overrides):
    body = {
        "offer": {"kind": "percent", "value": 10, "expires_minutes": 15},
        "budget": {"total_codes": 100},
        "caps": {"cooldown_days": 1, "max_per_visitor": 2},
        **overrides,
    }
    site_admin.put_campaign("shop", campaign_id, body)


def ask(visitor="v1", now=NOW, ip="ip1", **body):
    visit = parse_visit({"site_key": "shop", "visitor_id": visitor, "page_url": f"{ORIGIN}/cart", **body}, CHROME)
    return offer_service.decide_offer(visit, ORIGIN, ip, now)


def test_an_issued_code_is_stored_with_its_terms_and_a_ttl(shop):
    put()
    answer = ask()
    coupon = offers.get_coupon(answer.coupon["code"])
    assert (coupon.site_key, coupon.campaign_id, coupon.variant_id, coupon.kind, coupon.value) == (
        "shop",
        "c1",
        "a",
        "percent",
        10,
    )
    assert coupon.expires_at == NOW + timedelta(minutes=15) and coupon.ttl > coupon.expires_at
    assert answer.coupon["expires_in_seconds"] == 900


def test_asking_again_while_valid_returns_the_same_code_and_spends_nothing(shop):
    put(budget={"total_codes": 1})
    first = ask()
    again = ask(now=NOW + timedelta(minutes=5))
    assert again.coupon["code"] == first.coupon["code"] and again.coupon["expires_in_seconds"] == 600
    assert ask(visitor="v2").reason == "budget_spent"


def test_after_expiry_the_cooldown_caps_and_then_the_lifetime_cap(shop):
    put()
    ask()
    assert ask(now=NOW + timedelta(hours=2)).reason == "capped"
    second = ask(now=NOW + timedelta(days=2))
    assert second.show
    assert ask(now=NOW + timedelta(days=5)).reason == "capped"


def test_the_daily_budget(shop):
    put(budget={"total_codes": 10, "codes_per_day": 2})
    assert [ask(visitor=f"v{i}").reason for i in range(3)] == ["offer", "offer", "budget_spent"]
    assert ask(visitor="v9", now=NOW + timedelta(days=1)).reason == "offer"


def test_a_zero_budget_issues_nothing(shop):
    put(budget={"total_codes": 0})
    assert ask().reason == "budget_spent"


def test_holdout_visitors_are_counted_once_and_shown_nothing(shop):
    put(holdout=0.9)
    holdout_visitors = [v for v in (f"h{i}" for i in range(30)) if ask(visitor=v).reason == "holdout"]
    for visitor in holdout_visitors:
        assert ask(visitor=visitor).reason == "holdout"
    report = site_admin.campaign_report("shop", "c1")
    holdout = next(a for a in report["arms"] if a["arm"] == "holdout")
    assert holdout["visitors"] == len(holdout_visitors) > 10 and holdout["issued"] == 0


def test_the_kill_switch_stops_offers_once_the_cache_is_refreshed(shop):
    put()
    assert ask().show
    site_admin.set_enabled("shop", "c1", False)  # forgets this container's cache entry
    assert ask(visitor="v2").reason == "kill_switch"


def test_per_ip_issue_limit(shop, monkeypatch):
    monkeypatch.setenv("OFFER_ISSUES_PER_IP_PER_MINUTE", "2")
    put()
    assert [ask(visitor=f"v{i}", ip="same").reason for i in range(3)] == ["offer", "offer", "rate_limited"]
    assert ask(visitor="v3", ip="other").reason == "offer"


def test_redeem_exactly_once_with_idempotent_order_reference(shop):
    put()
    code = ask().coupon["code"]
    assert offer_service.redeem_code(code, "order-1", "store", NOW)[0] == "redeemed"
    outcome, body = offer_service.redeem_code(code, "order-1", "store", NOW)
    assert (outcome, body["outcome"]) == ("already_redeemed_same_order", "already_redeemed_same_order")
    outcome, body = offer_service.redeem_code(code, "order-2", "phone", NOW)
    assert (outcome, body["status"], body["valid"]) == ("already_redeemed", "redeemed", False)
    assert "order-1" not in str(body) and "store" not in str(body)  # the other till learns no order
    assert offer_service.describe_code(code, NOW)["status"] == "redeemed"


def test_an_expired_code_cannot_be_redeemed(shop):
    put()
    code = ask().coupon["code"]
    later = NOW + timedelta(minutes=16)
    assert offer_service.describe_code(code, later)["status"] == "expired"
    assert offer_service.redeem_code(code, "order-1", "web", later)[0] == "expired"


def test_unknown_codes_and_bad_redemptions(shop):
    with pytest.raises(NotFound):
        offer_service.describe_code("ABCDE-FGHJK")
    put()
    code = ask().coupon["code"]
    for order_ref, channel in ((None, "web"), ("", "web"), ("o" * 101, "web"), ("o1", "fax")):
        with pytest.raises(Invalid):
            offer_service.redeem_code(code, order_ref, channel, NOW)
    assert offer_service.describe_code(code, NOW)["status"] == "valid"


def test_impressions_and_claims_count_once_and_forged_beacons_count_nothing(shop):
    put()
    answer = ask()
    code = answer.coupon["code"]
    assert offers.mark_coupon("shop", code, "c1", "a", "impressed_at", NOW)
    assert not offers.mark_coupon("shop", code, "c1", "a", "impressed_at", NOW)
    assert not offers.mark_coupon("shop", code, "c1", "b", "claimed_at", NOW)
    assert not offers.mark_coupon("other", code, "c1", "a", "claimed_at", NOW)
    arm = next(a for a in site_admin.campaign_report("shop", "c1")["arms"] if a["arm"] == "a")
    assert (arm["impressions"], arm["claims"], arm["issued"], arm["visitors"]) == (1, 0, 1, 1)


def test_a_spent_campaign_falls_through_to_the_next_eligible_one(shop):
    put("top", priority=10, budget={"total_codes": 1})
    put("next", priority=1, budget={"total_codes": 5})
    assert ask(visitor="v1").campaign_id == "top"
    second = ask(visitor="v2")
    assert (second.show, second.reason, second.campaign_id) == (True, "offer", "next")
    put("daily", priority=20, budget={"total_codes": 100, "codes_per_day": 0})
    assert ask(visitor="v3").campaign_id == "next"  # a spent daily cap above stops nothing below


def test_when_every_campaign_is_spent_the_answer_says_so(shop):
    put("only", budget={"total_codes": 1})
    ask(visitor="v1")
    assert (ask(visitor="v2").reason, ask(visitor="v3").show) == ("budget_spent", False)


def test_a_campaign_with_a_fallback_shows_it_when_spent_without_a_code(shop):
    put("top", priority=10, budget={"total_codes": 1}, fallback={"texts": {"headline": "Free returns, always"}})
    put("next", priority=1)
    ask(visitor="v1")
    answer = ask(visitor="v2")
    assert (answer.show, answer.reason, answer.coupon) == (True, "fallback", None)
    assert answer.as_dict()["message"]["texts"]["headline"] == "Free returns, always"
    assert offers.get_coupon("X") is None


def test_the_kill_switch_reaches_a_container_with_a_stale_cache_on_its_next_decision(shop):
    from chalicelib.offers import site_cache

    put()
    assert ask(visitor="v1").show  # this container caches the site
    stale = dict(site_cache._sites)
    site_admin.set_enabled("shop", "c1", False)
    site_cache._sites.update(stale)  # another container still holds the old configuration
    assert ask(visitor="v2").reason == "kill_switch"
    site_admin.set_enabled("shop", "c1", True)
    site_cache._sites.update(stale)
    assert ask(visitor="v3").show
