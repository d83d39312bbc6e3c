"""Issuing, capping, holding out and redeeming offers against moto's DynamoDB."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.errors import Invalid, NotFound
from chalicelib.offers import admin as site_admin
from chalicelib.offers import service as offer_service
from chalicelib.offers.decision import parse_dismissal, parse_visit
from chalicelib.offers.routes import code_body, decision_body, parse_till_request, till_answer
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


def redeem(code, order_ref, channel, now, **body):
    """(outcome, the answer's body), as the till route gives them."""
    request = parse_till_request({"order_ref": order_ref, "channel": channel, **body})
    result = offer_service.redeem_code(code, request, now)
    return result.outcome, till_answer(result, now)[1]


def roll_back(code, order_ref, now):
    result = offer_service.roll_back_code(code, order_ref, now)
    return result.outcome, till_answer(result, now)[1]


def describe(code, now):
    return code_body(offer_service.describe_code(code), now)


def ask(visitor="v1", now=NOW, ip="ip1", **body):
    visit = parse_visit({"site_key": "shop", "visitor_id": visitor, "page_url": f"{ORIGIN}/cart", **body}, CHROME)
    return offer_service.decide_offer(visit, ORIGIN, ip, now)


def test_an_issued_code_is_stored_with_its_terms_and_a_ttl(shop):
    put()
    answer = ask()
    coupon = offers.get_coupon(answer.offer.code)
    assert (coupon.site_key, coupon.campaign_id, coupon.variant_id, coupon.kind, coupon.value) == (
        "shop",
        "c1",
        "a",
        "percent",
        10,
    )
    assert coupon.expires_at == NOW + timedelta(minutes=15) and coupon.ttl > coupon.expires_at
    assert answer.offer.expires_in_seconds == 900


def test_asking_again_while_valid_returns_the_same_code_and_spends_nothing(shop):
    put(budget={"total_codes": 1})
    first = ask()
    again = ask(now=NOW + timedelta(minutes=5))
    assert again.offer.code == first.offer.code and again.offer.expires_in_seconds == 600
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
    code = ask().offer.code
    assert redeem(code, "order-1", "store", NOW)[0] == "redeemed"
    outcome, body = redeem(code, "order-1", "store", NOW)
    assert (outcome, body["outcome"]) == ("already_redeemed_same_order", "already_redeemed_same_order")
    outcome, body = redeem(code, "order-2", "phone", NOW)
    assert (outcome, body["error"], body["outcome"], "valid" in body) == ("already_redeemed",) * 3 + (False,)
    assert "order-1" not in str(body) and "store" not in str(body)  # the other till learns no order
    assert describe(code, NOW)["status"] == "redeemed"


def test_an_expired_code_cannot_be_redeemed(shop):
    put()
    code = ask().offer.code
    later = NOW + timedelta(minutes=16)
    assert describe(code, later)["status"] == "expired"
    assert redeem(code, "order-1", "web", later)[0] == "expired"


def test_unknown_codes_and_bad_redemptions(shop):
    with pytest.raises(NotFound):
        offer_service.describe_code("ABCDE-FGHJK")
    put()
    code = ask().offer.code
    for order_ref, channel in ((None, "web"), ("", "web"), ("o" * 101, "web"), ("o1", "fax")):
        with pytest.raises(Invalid):
            redeem(code, order_ref, channel, NOW)
    assert describe(code, NOW)["status"] == "valid"


def test_impressions_and_claims_count_once_and_forged_beacons_count_nothing(shop):
    put()
    answer = ask()
    code = answer.offer.code
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
    assert (answer.show, answer.reason, answer.offer) == (True, "fallback", None)
    assert decision_body(answer)["message"]["texts"]["headline"] == "Free returns, always"
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


def dismiss(how="close", visitor="v1", now=NOW, campaign="c1", **extra):
    site = offer_service.site_for_page("shop", ORIGIN)
    body = {"site_key": "shop", "visitor_id": visitor, "campaign_id": campaign, "how": how, **extra}
    return offer_service.record_dismissal(site, parse_dismissal(body), now)


def test_each_dismissal_makes_the_campaign_wait_longer(shop):
    put(caps={"cooldown_days": 0, "max_per_visitor": 100, "dismiss_cooldown_days": [1, 7, 30]})
    assert ask().show
    assert dismiss(now=NOW)
    assert ask(now=NOW + timedelta(hours=23)).reason == "dismissed"
    assert ask(now=NOW + timedelta(days=1, minutes=1)).show
    assert dismiss(now=NOW + timedelta(days=1, minutes=2))
    assert ask(now=NOW + timedelta(days=7)).reason == "dismissed"
    assert ask(now=NOW + timedelta(days=8, minutes=3)).show
    assert dismiss(how="esc", now=NOW + timedelta(days=9))
    assert ask(now=NOW + timedelta(days=38)).reason == "dismissed"  # the third waits 30 days
    assert ask(now=NOW + timedelta(days=39, minutes=1)).show


def test_dont_show_again_waits_a_year_and_a_double_dismissal_counts_once(shop):
    put(caps={"cooldown_days": 0, "max_per_visitor": 100})
    ask()
    assert dismiss(how="esc") and not dismiss(how="close", now=NOW + timedelta(seconds=1))
    assert offers.site_and_visitor("shop", "v1", False)[1].state_of("c1").dismissals == 1
    assert dismiss(how="never", now=NOW + timedelta(seconds=1))
    assert ask(now=NOW + timedelta(days=300)).reason == "dismissed"


def signed(customer_id: str) -> dict:
    """The customer id with the hash the shop's server renders into its page."""
    from chalicelib.offers.identity import customer_hash

    return {"customer_id": customer_id, "customer_hash": customer_hash(offers.get_site("shop").secrets[0], customer_id)}


def test_a_known_customer_is_the_same_on_every_device(shop):
    put(caps={"cooldown_days": 0, "max_per_visitor": 100})
    phone = ask(visitor="phone", **signed("cust-42"))
    assert phone.show
    assert dismiss(visitor="phone", **signed("cust-42"))
    assert ask(visitor="laptop", now=NOW + timedelta(hours=1), **signed("cust-42")).reason == "dismissed"
    assert ask(visitor="laptop", now=NOW + timedelta(hours=1)).show  # signed out: the laptop's own state
    stored = offers.site_and_visitor("shop", offer_service.state_id("shop", "x", "cust-42"), False)[1]
    assert stored is not None and "cust-42" not in stored.pk


def test_a_customer_id_without_the_shops_signature_is_an_anonymous_visitor(shop):
    """16.5: a script posting someone else's customer id received their live code, and a
    dismissal naming it with `how: never` silenced them."""
    put(caps={"cooldown_days": 0, "max_per_visitor": 100})
    victim = ask(visitor="victim-phone", **signed("cust-42"))
    for forged in ({"customer_id": "cust-42"}, {"customer_id": "cust-42", "customer_hash": "0" * 64}):
        stranger = ask(visitor=f"stranger{len(forged)}", **forged)
        assert stranger.show and stranger.offer.code != victim.offer.code
        assert dismiss(visitor=f"stranger{len(forged)}", how="never", **forged)
    later = NOW + timedelta(minutes=1)
    assert ask(visitor="victim-laptop", now=later, **signed("cust-42")).offer.code == victim.offer.code
    other_site_hash = {"customer_id": "cust-42", "customer_hash": signed("cust-7")["customer_hash"]}
    assert ask(visitor="stranger3", **other_site_hash).offer.code != victim.offer.code


def test_a_rotated_secret_stays_valid_until_the_next_rotation(shop):
    put(caps={"cooldown_days": 0, "max_per_visitor": 100})
    from chalicelib.offers import site_cache

    first = signed("cust-42")
    code = ask(visitor="phone", **first).offer.code
    site_admin.rotate_secret("shop")
    site_cache.forget()
    assert ask(visitor="laptop", **first).offer.code == code  # rendered before the rotation: still valid
    assert ask(visitor="tablet", **signed("cust-42")).offer.code == code  # the new secret
    site_admin.rotate_secret("shop")
    site_cache.forget()
    assert ask(visitor="tv", **first).offer.code != code  # two rotations later: anonymous


def test_a_recurring_window_in_the_campaigns_time_zone(shop):
    # 12:00 UTC on a Monday is 21:00 in Tokyo: outside 9-18, inside in Berlin (13:00).
    monday_noon = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    put("tokyo", schedule={"time_zone": "Asia/Tokyo", "days": ["mon", "tue"], "hours": [9, 18]})
    assert ask(now=monday_noon).reason == "outside_schedule"
    put("tokyo", schedule={"time_zone": "Europe/Berlin", "days": ["mon"], "hours": [9, 18]})
    assert ask(now=monday_noon).show
    assert ask(visitor="v2", now=monday_noon + timedelta(days=1)).reason == "outside_schedule"


def test_the_daily_budget_resets_at_the_campaigns_midnight(shop):
    put(budget={"total_codes": 100, "codes_per_day": 1}, schedule={"time_zone": "America/New_York"})
    late_evening_ny = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 22:00 on the 23rd in New York
    assert ask(visitor="v1", now=late_evening_ny).show
    assert ask(visitor="v2", now=late_evening_ny + timedelta(hours=1)).reason == "budget_spent"  # still the 23rd there
    assert ask(visitor="v3", now=late_evening_ny + timedelta(hours=2, minutes=1)).show  # the 24th began


def test_value_budgets_cap_the_discount_value_issued(shop):
    put(
        offer={"kind": "percent", "value": 10},
        budget={"total_codes": 100, "total_value": 25, "currency": "USD"},
        caps={"cooldown_days": 0, "max_per_visitor": 5},
    )
    assert ask(visitor="v1", cart_value=100, currency="USD").show  # 10.00
    assert ask(visitor="v2", cart_value=100, currency="USD").show  # 20.00
    assert ask(visitor="v3", cart_value=100, currency="USD").reason == "budget_spent"  # 30 > 25
    assert ask(visitor="v4", cart_value=40, currency="USD").show  # 24.00
    assert ask(visitor="v5", cart_value=100, currency="EUR").reason == "budget_spent"  # cannot be counted
    total = offers.Counter.get(offers.campaign_key("shop", "c1"), "TOTAL")
    assert int(total.value_issued) == 2400 and int(total.issued) == 3  # minor units


def issued_code(**campaign):
    put(**campaign)
    return ask(cart_value=80, currency="USD").offer.code


def test_redemption_rules_are_enforced_at_the_till(shop):
    code = issued_code(
        redemption={
            "min_order_value": 50,
            "currency": "USD",
            "channels": ["store", "web"],
            "store_ids": ["berlin-1"],
            "first_time_only": True,
        }
    )
    refusals = [
        ({"channel": "phone"}, "channel_not_allowed"),
        ({"channel": "store", "store_id": "paris-2"}, "store_not_allowed"),
        ({"order_value": 49.99, "currency": "USD"}, "order_too_small"),
        ({"order_value": 80, "currency": "USD", "first_order": False}, "first_order_only"),
    ]
    for extra, why in refusals:
        body = {"channel": "web", "order_value": 80, "currency": "USD", "first_order": True, **extra}
        channel = body.pop("channel")
        assert redeem(code, "o1", channel, NOW, **body)[0] == why
    assert redeem(code, "o1", "web", NOW, order_value=80, currency="EUR", first_order=True)[0] == "order_value_needed"
    outcome, body = redeem(
        code, "o1", "store", NOW, order_value=80, currency="USD", store_id="berlin-1", first_order=True
    )
    assert outcome == "redeemed" and body["store_id"] == "berlin-1"


def test_a_per_customer_limit_holds_across_codes_and_never_stores_the_id(shop):
    put(redemption={"per_customer": 1}, caps={"cooldown_days": 0, "max_per_visitor": 5})
    first = ask(visitor="v1").offer.code
    second = ask(visitor="v2").offer.code
    assert redeem(first, "o1", "web", NOW, customer_id="cust-7")[0] == "redeemed"
    assert redeem(second, "o2", "web", NOW, customer_id="cust-7")[0] == "customer_limit"
    assert redeem(second, "o3", "web", NOW, customer_id="cust-8")[0] == "redeemed"
    assert "cust-7" not in str(offers.get_coupon(first).attribute_values)


def test_a_rollback_within_the_window_makes_the_code_redeemable_again_once(shop):
    code = issued_code(
        redemption={"per_customer": 1, "rollback_hours": 24},
        offer={"kind": "percent", "value": 10, "expires_minutes": 60 * 24 * 2},
    )
    assert redeem(code, "o1", "web", NOW, customer_id="c1")[0] == "redeemed"
    assert roll_back(code, "another-order", NOW)[0] == "not_redeemed_by_this_order"
    outcome, rolled = roll_back(code, "o1", NOW + timedelta(hours=2))
    assert outcome == "rolled_back" and rolled["status"] == "valid" and rolled["rollbacks"] == 1
    outcome, again = roll_back(code, "o1", NOW + timedelta(hours=2))  # the till asks again: settled, once
    assert outcome == "already_rolled_back_same_order" and again["rollbacks"] == 1
    assert redeem(code, "o2", "web", NOW + timedelta(hours=3), customer_id="c1")[0] == "redeemed"
    assert roll_back(code, "o2", NOW + timedelta(hours=28))[0] == "rollback_window_passed"
    [arm] = offers.campaign_counters("shop", "c1")
    assert (int(arm.redemptions), int(arm.rollbacks)) == (1, 1)
    assert offers.get_coupon(code).rollbacks[0]["order_ref"] == "o1"


# Issue 15.5 and 16.7-10: money in minor units, redeemed value counted, rollbacks exact, one transaction.


def test_four_codes_of_0_30_fit_a_value_budget_of_1_20(shop):
    put(
        offer={"kind": "amount", "value": 0.30, "currency": "USD"},
        budget={"total_codes": 100, "total_value": 1.20, "currency": "USD"},
    )
    answers = [ask(visitor=f"v{i}", cart_value=10, currency="USD") for i in range(5)]
    assert [a.reason for a in answers] == ["offer"] * 4 + ["budget_spent"]
    assert int(offers.Counter.get("CAMPAIGN#shop#c1", "TOTAL").value_issued) == 120


def test_jpy_and_bhd_campaigns_count_in_their_own_minor_units(shop):
    put(
        offer={"kind": "amount", "value": 500, "currency": "JPY"},
        budget={"total_codes": 100, "total_value": 1500, "currency": "JPY"},
    )
    assert [ask(visitor=f"j{i}").reason for i in range(4)] == ["offer"] * 3 + ["budget_spent"]
    put(
        "bhd",
        offer={"kind": "amount", "value": 0.125, "currency": "BHD"},
        budget={"total_codes": 100, "total_value": 0.375, "currency": "BHD"},
        priority=10,
    )
    answers = [ask(visitor=f"b{i}") for i in range(4)]
    assert [(a.reason, a.campaign_id) for a in answers] == [("offer", "bhd")] * 3 + [("budget_spent", "bhd")]
    assert describe(answers[0].offer.code, NOW)["value"] == 0.125
    with pytest.raises(Invalid, match="decimals"):
        put("bad", offer={"kind": "amount", "value": 0.1255, "currency": "BHD"})


def two_percent_codes(**offer):
    put(
        offer={"kind": "percent", "value": 10, "currency": "USD", **offer},
        budget={"total_codes": 100, "total_value": 100, "currency": "USD"},
    )
    return [ask(visitor=v, cart_value=cart, currency="USD").offer.code for v, cart in (("v1", 284.50), ("v2", 21.50))]


def test_redeemed_value_counts_against_the_value_budget(shop):
    """16.7: two 10% codes issued on carts of 284.50 and 21.50, redeemed on 10,000 orders, gave
    2,000 against a budget of 100. Now the budget counts what is redeemed, and refuses by name."""
    first, second = two_percent_codes()
    big = {"order_value": 10_000, "currency": "USD"}
    assert redeem(first, "o1", "web", NOW, **big)[0] == "value_budget_spent"
    outcome, body = redeem(first, "o1", "web", NOW, order_value=600, currency="USD")
    assert (outcome, body["discount"]) == ("redeemed", 60)
    outcome, body = redeem(second, "o2", "web", NOW, order_value=500, currency="USD")
    assert outcome == "value_budget_spent" and body["error"] == "value_budget_spent"  # 60 + 50 > 100
    assert redeem(second, "o2", "web", NOW, order_value=400, currency="USD")[0] == "redeemed"  # 60 + 40
    assert int(offers.Counter.get("CAMPAIGN#shop#c1", "TOTAL").value_redeemed) == 10_000  # 100.00


def test_a_percent_code_is_capped_by_its_max_discount(shop):
    first, second = two_percent_codes(max_discount=15)
    outcome, body = redeem(first, "o1", "web", NOW, order_value=10_000, currency="USD")
    assert (outcome, body["discount"], body["capped_by"], body["max_discount"]) == ("redeemed", 15, "max_discount", 15)
    assert redeem(second, "o2", "web", NOW, order_value=10_000, currency="USD")[1]["discount"] == 15
    assert redeem(second, "o2", "web", NOW, currency="USD")[0] == "already_redeemed_same_order"
    [arm] = offers.campaign_counters("shop", "c1")
    assert int(arm.value_redeemed) == 3000


def test_a_rollback_does_not_credit_a_customer_the_redemption_never_counted(shop):
    """16.9: a code redeemed before the campaign had a per-customer limit, rolled back after the
    limit came: the customer's count must not go below what they really used."""
    put(caps={"cooldown_days": 0, "max_per_visitor": 5}, redemption={"rollback_hours": 24})
    early = ask(visitor="v0").offer.code
    assert redeem(early, "o0", "web", NOW, customer_id="cust-7")[0] == "redeemed"
    put(caps={"cooldown_days": 0, "max_per_visitor": 5}, redemption={"per_customer": 1, "rollback_hours": 24})
    assert roll_back(early, "o0", NOW + timedelta(hours=1))[0] == "rolled_back"
    first, second = (ask(visitor=v).offer.code for v in ("v1", "v2"))
    assert redeem(first, "o1", "web", NOW, customer_id="cust-7")[0] == "redeemed"
    assert redeem(second, "o2", "web", NOW, customer_id="cust-7")[0] == "customer_limit"


@pytest.fixture
def dynamodb_calls(monkeypatch):
    """The names of the DynamoDB calls made (one call, one round trip), with no site cached."""
    from pynamodb.connection.base import Connection

    from chalicelib.offers import site_cache

    calls = []
    original = Connection._make_api_call

    def counted(self, name, *args, **kwargs):
        calls.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(Connection, "_make_api_call", counted)
    site_cache.forget()
    return calls


def till_step(step, code, order_ref, channel="web", now=NOW, **body):
    """A till's call with the ticket of its previous answer: (outcome, body)."""
    if step == "redeem":
        request = parse_till_request({"order_ref": order_ref, "channel": channel, **body})
        result = offer_service.redeem_code(code, request, now, ticket=body.get("ticket"))
    else:
        result = offer_service.roll_back_code(code, order_ref, now, ticket=body.get("ticket"))
    return result.outcome, till_answer(result, now)[1]


def test_without_a_ticket_a_redemption_reads_only_the_code_then_one_transaction(shop, dynamodb_calls):
    """The code carries its campaign's till rules: a container without the site cached does not
    read it (that read made 3 round trips)."""
    code = issued_code(redemption={"channels": ["web"], "rollback_hours": 24})
    dynamodb_calls.clear()
    assert redeem(code, "o1", "store", NOW)[0] == "channel_not_allowed"  # the rule came with the code
    assert redeem(code, "o1", "web", NOW)[0] == "redeemed"
    assert roll_back(code, "o1", NOW + timedelta(hours=1))[0] == "rolled_back"
    assert dynamodb_calls == ["GetItem", "GetItem", "TransactWriteItems", "GetItem", "TransactWriteItems"]


def test_with_the_ticket_of_the_previous_step_redemption_and_rollback_are_one_round_trip(shop, dynamodb_calls):
    """16.10: validation answers a signed ticket of what never changes (terms, till rules,
    campaign, expiry) and of the redemption; the next step sends it back and is one transaction."""
    code = issued_code(
        offer={"kind": "percent", "value": 10, "currency": "USD", "max_discount": 5},
        redemption={"per_customer": 1, "rollback_hours": 24},
    )
    validated = describe(code, NOW)
    dynamodb_calls.clear()
    till = {"order_value": 80, "currency": "USD", "customer_id": "cust-7"}
    outcome, redeemed = till_step("redeem", code, "o1", ticket=validated["ticket"], **till)
    assert (outcome, redeemed["discount"], dynamodb_calls) == ("redeemed", 5, ["TransactWriteItems"])
    later = NOW + timedelta(hours=1)
    outcome, rolled = till_step("roll_back", code, "o1", now=later, ticket=redeemed["ticket"])
    assert (outcome, rolled["rollbacks"], len(dynamodb_calls)) == ("rolled_back", 1, 2)
    counters = {c.sk: c for c in offers.campaign_counters("shop", "c1")}
    assert (int(counters["ARM#a"].redemptions), int(counters["ARM#a"].value_redeemed)) == (0, 0)
    customer = offers.RateCounter.get(f"CUSTOMER#shop#c1#{offer_service.state_id('shop', None, 'cust-7')}", "REDEEMED")
    assert int(customer.n) == 0
    assert offers.get_coupon(code).rollbacks[0]["order_ref"] == "o1"


def test_a_stale_ticket_is_settled_by_the_code_as_it_is_and_a_forged_one_is_ignored(shop, dynamodb_calls):
    code = issued_code(redemption={"channels": ["web"]})
    ticket = describe(code, NOW)["ticket"]
    assert till_step("redeem", code, "o1", ticket=ticket)[0] == "redeemed"
    dynamodb_calls.clear()
    assert till_step("redeem", code, "o1", ticket=ticket)[0] == "already_redeemed_same_order"
    assert till_step("redeem", code, "o2", ticket=ticket)[0] == "already_redeemed"
    assert dynamodb_calls == ["TransactWriteItems", "TransactWriteItems"]  # the failed condition told how it is
    other = ask(visitor="v2").offer.code
    payload, signature = describe(other, NOW)["ticket"].split(".")
    facts = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    facts["r"]["channels"].append("store")  # a till that would like to redeem in a store
    forged = base64.urlsafe_b64encode(json.dumps(facts).encode()).decode().rstrip("=") + "." + signature
    assert till_step("redeem", other, "o3", "store", ticket=forged)[0] == "channel_not_allowed"
    assert till_step("redeem", other, "o3", "web", ticket=ticket)[0] == "redeemed"  # another code's: read instead


def test_a_refusal_a_ticket_would_imply_is_checked_against_the_code(shop, dynamodb_calls):
    """A redemption's ticket says "redeemed by o1"; after a rollback elsewhere the code is free
    again, so a redemption for o2 with that ticket must not be refused on the ticket's word."""
    code = issued_code(redemption={"rollback_hours": 24})
    redeemed_ticket = till_step("redeem", code, "o1")[1]["ticket"]
    assert roll_back(code, "o1", NOW + timedelta(minutes=1))[0] == "rolled_back"
    dynamodb_calls.clear()
    assert till_step("redeem", code, "o2", now=NOW + timedelta(minutes=2), ticket=redeemed_ticket)[0] == "redeemed"
    assert dynamodb_calls == ["GetItem", "TransactWriteItems"]
    later = NOW + timedelta(minutes=3)
    assert till_step("roll_back", code, "o1", now=later, ticket=redeemed_ticket)[0] == "not_redeemed_by_this_order"
