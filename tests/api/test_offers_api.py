"""Offer endpoints through `chalice.test.Client`: the snippet's calls and the tills' calls."""

import json
from urllib.parse import quote

import boto3
import pytest

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
ORIGIN = "https://shop.example"
BROWSER = {"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": CHROME}
CAMPAIGN = {
    "offer": {"kind": "amount", "value": 5, "currency": "USD", "expires_minutes": 15},
    "budget": {"total_codes": 50},
    "targeting": {"paths": ["/*"], "min_cart_value": 20, "currency": "USD"},
    "variants": [{"variant_id": "a", "texts": {"headline": "Take 5 off"}}],
}


@pytest.fixture
def shop(api):
    assert (
        api.admin("POST", "/v1/sites", {"site_key": "shop", "name": "Shop", "allowed_origins": [ORIGIN]}).status_code
        == 201
    )
    assert api.admin("PUT", "/v1/sites/shop/campaigns/five-off", CAMPAIGN).status_code == 200
    return api


def decide(api, headers=None, **body):
    payload = {
        "site_key": "shop",
        "visitor_id": "v1",
        "session_id": "s1",
        "page_url": f"{ORIGIN}/cart",
        "cart_value": 42.5,
        "currency": "USD",
        **body,
    }
    return api.http.post("/offers/decide", headers={**BROWSER, **(headers or {})}, body=json.dumps(payload).encode())


def test_a_decision_with_cors_for_the_allowed_origin(shop):
    response = decide(shop)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN and response.headers["Vary"] == "Origin"
    body = response.json_body
    assert body["show"] and body["campaign_id"] == "five-off" and body["variant_id"] == "a"
    assert body["offer"]["kind"] == "amount" and body["offer"]["value"] == 5 and body["offer"]["currency"] == "USD"
    assert body["offer"]["texts"]["headline"] == "Take 5 off" and 899 <= body["offer"]["expires_in_seconds"] <= 900
    assert decide(shop).json_body["offer"]["code"] == body["offer"]["code"]


def test_application_json_from_a_server_works_too_when_it_names_the_shops_origin(shop):
    response = decide(shop, {"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json_body["show"]


@pytest.mark.parametrize("path", ["/offers/decide", "/offers/events", "/offers/conversions"])
def test_a_request_without_an_origin_is_refused_as_the_docs_say(shop, path):
    """A browser sends Origin with every POST; without one it is a script's request, and the
    site's allowed origins cannot be checked. (Origin is no secret: budgets, caps and the per-IP
    limit are what bound abuse; this keeps the documented rule true.)"""
    body = {"site_key": "shop", "visitor_id": "v9", "page_url": f"{ORIGIN}/cart", "event": "claim"}
    response = shop.http.post(path, headers={**BROWSER, "Origin": ""}, body=json.dumps(body).encode())
    assert response.status_code == 403 and response.json_body["error"] == "origin_required"
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_foreign_origin_is_refused_without_cors_headers(shop):
    response = decide(shop, {"Origin": "https://evil.example"})
    assert response.status_code == 403 and response.json_body["error"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "body, status, error",
    [
        ({"site_key": "nope"}, 404, "unknown_site"),
        ({"cart_value": 1e9}, 400, "bad_field"),
        ({"cart_value": -5}, 400, "bad_field"),
        ({"page_url": None}, 400, "missing_field"),
        ({"device": "toaster"}, 400, "bad_field"),
    ],
)
def test_bad_decision_requests_issue_nothing(shop, body, status, error):
    response = decide(shop, **body)
    assert (response.status_code, response.json_body["error"]) == (status, error)
    report = shop.admin("GET", "/v1/sites/shop/campaigns/five-off/report").json_body
    assert all(arm["issued"] == 0 for arm in report["arms"])


def test_malformed_json_and_oversized_bodies(shop):
    assert shop.http.post("/offers/decide", headers=BROWSER, body=b"{nope").status_code == 400
    assert shop.http.post("/offers/decide", headers=BROWSER, body=b"[]").status_code == 400
    assert shop.http.post("/offers/decide", headers=BROWSER, body=b'{"a":"' + b"x" * 9000 + b'"}').status_code == 413


def test_bots_and_visitors_without_id_get_nothing_and_spend_nothing(shop):
    assert decide(shop, {"User-Agent": "Mozilla/5.0 (X11) HeadlessChrome/130.0"}).json_body == {
        "show": False,
        "reason": "bot",
    }
    assert decide(shop, visitor_id=None).json_body == {"show": False, "reason": "bot"}
    report = shop.admin("GET", "/v1/sites/shop/campaigns/five-off/report").json_body
    assert report["arms"] == []


def test_the_kill_switch_endpoint(shop):
    assert shop.admin("PUT", "/v1/sites/shop/campaigns/five-off/enabled", {"enabled": False}).status_code == 200
    assert decide(shop).json_body == {"show": False, "reason": "kill_switch"}
    assert shop.admin("PUT", "/v1/sites/shop/campaigns/nope/enabled", {"enabled": False}).status_code == 404


def test_campaign_validation_errors_are_400(shop):
    response = shop.admin(
        "PUT",
        "/v1/sites/shop/campaigns/bad",
        {"offer": {"kind": "percent", "value": 500}, "budget": {"total_codes": 1}},
    )
    assert response.status_code == 400 and "offer.value" in response.json_body["message"]
    assert shop.admin("PUT", "/v1/sites/nope/campaigns/c", CAMPAIGN).status_code == 404
    assert (
        shop.admin("POST", "/v1/sites", {"site_key": "shop", "name": "Again", "allowed_origins": [ORIGIN]}).status_code
        == 409
    )
    assert shop.admin("POST", "/v1/sites", {"name": "x", "allowed_origins": ["not a url"]}).status_code == 400


def test_validate_and_redeem_on_every_channel(shop):
    code = decide(shop).json_body["offer"]["code"]
    valid = shop.admin("GET", f"/v1/codes/{code.lower()}")
    assert valid.status_code == 200 and valid.json_body["valid"] and valid.json_body["value"] == 5
    # As a till or a phone types it: a space (percent-encoded in the path, as API Gateway hands it
    # over), full-width characters from an East Asian keyboard.
    spaced = quote(code.replace("-", " "))
    wide = quote("".join(chr(ord(c) + 0xFEE0) if c != "-" else "\uff0d" for c in code))
    for typed in (spaced, wide):
        answer = shop.admin("GET", f"/v1/codes/{typed}")
        assert answer.status_code == 200 and answer.json_body["code"] == code, (typed, answer.json_body)
    first = shop.admin("POST", f"/v1/codes/{code}/redemptions", {"order_ref": "till-7-0042", "channel": "store"})
    assert first.status_code == 200 and first.json_body["outcome"] == "redeemed"
    again = shop.admin("POST", f"/v1/codes/{code}/redemptions", {"order_ref": "till-7-0042", "channel": "store"})
    assert again.status_code == 200 and again.json_body["outcome"] == "already_redeemed_same_order"
    other = shop.admin("POST", f"/v1/codes/{code}/redemptions", {"order_ref": "web-991", "channel": "web"})
    assert other.status_code == 409 and other.json_body["outcome"] == "already_redeemed"
    assert shop.admin("GET", "/v1/codes/ABCDE-FGHJK").status_code == 404
    assert shop.http.get(f"/v1/codes/{code}").status_code == 401
    # The order is refunded: rolled back once; the till asking again (its answer lost) is settled.
    back = shop.admin("POST", f"/v1/codes/{code}/rollbacks", {"order_ref": "till-7-0042"})
    assert back.status_code == 200 and back.json_body["outcome"] == "rolled_back"
    again = shop.admin("POST", f"/v1/codes/{code}/rollbacks", {"order_ref": "till-7-0042"})
    assert again.status_code == 200 and again.json_body["outcome"] == "already_rolled_back_same_order"
    assert shop.admin("GET", f"/v1/codes/{code}").json_body["valid"]


def test_impression_and_claim_beacons(shop):
    answer = decide(shop).json_body
    beacon = {"site_key": "shop", "code": answer["offer"]["code"], "campaign_id": "five-off", "variant_id": "a"}
    for event in ("impression", "impression", "claim"):
        shop.http.post("/offers/events", headers=BROWSER, body=json.dumps({**beacon, "event": event}).encode())
    arm = shop.admin("GET", "/v1/sites/shop/campaigns/five-off/report").json_body["arms"][0]
    assert (arm["impressions"], arm["claims"]) == (1, 1)
    bad = shop.http.post("/offers/events", headers=BROWSER, body=json.dumps({**beacon, "event": "purchase"}).encode())
    assert bad.status_code == 400


def test_email_me_the_code_sends_through_ses_and_keeps_no_address(shop, settings):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="offers@offboard.example")
    code = decide(shop).json_body["offer"]["code"]
    response = shop.http.post(
        "/offers/email",
        headers=BROWSER,
        body=json.dumps({"site_key": "shop", "code": code, "email": "Shopper@Example.com"}).encode(),
    )
    assert response.status_code == 202
    [message] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert message.destinations["ToAddresses"] == ["shopper@example.com"] and code in message.body
    coupon = shop.admin("GET", f"/v1/codes/{code}").json_body
    assert "shopper" not in json.dumps(coupon)
    bad = shop.http.post(
        "/offers/email", headers=BROWSER, body=json.dumps({"site_key": "shop", "code": code, "email": "nope"}).encode()
    )
    assert bad.status_code == 400


def test_email_me_respects_the_suppression_list(shop, settings):
    from chalicelib.core.ids import subscriber_id_for
    from chalicelib.storage.subscribers import PROFILE, Profile

    Profile(
        subscriber_id_for(settings.subscriber_id_key, "bounced@example.com"), PROFILE, suppressed_channels={"email"}
    ).save()
    code = decide(shop).json_body["offer"]["code"]
    response = shop.http.post(
        "/offers/email",
        headers=BROWSER,
        body=json.dumps({"site_key": "shop", "code": code, "email": "bounced@example.com"}).encode(),
    )
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    assert response.status_code == 202 and response.json_body == {"accepted": True}  # tells nobody who bounced
    assert ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages == []


def test_conversions_count_once_per_visitor_and_arm(shop):
    decide(shop)
    body = json.dumps({"site_key": "shop", "visitor_id": "v1"}).encode()
    assert shop.http.post("/offers/conversions", headers=BROWSER, body=body).json_body == {"counted": 1}
    assert shop.http.post("/offers/conversions", headers=BROWSER, body=body).json_body == {"counted": 0}
    arm = shop.admin("GET", "/v1/sites/shop/campaigns/five-off/report").json_body["arms"][0]
    assert arm["conversions"] == 1 and arm["conversion_rate"] == 1.0


def test_the_snippet_is_served_as_javascript(api):
    response = api.http.get("/offers/snippet.js")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/javascript")
    assert b"/offers/decide" in response.body and b"beforeunload" not in response.body.replace(b"no beforeunload", b"")


@pytest.mark.parametrize("path", ["/offers/events", "/offers/email", "/offers/conversions"])
@pytest.mark.parametrize("site_key", ["", "x" * 5000, "../../etc", 42])
def test_beacons_with_a_bad_site_key_are_4xx_not_5xx(shop, path, site_key):
    body = {"site_key": site_key, "visitor_id": "v1", "code": "ABCDE-FGHJK", "event": "claim", "email": "a@b.co"}
    response = shop.http.post(path, headers=BROWSER, body=json.dumps(body).encode())
    assert 400 <= response.status_code < 500


def test_validating_a_code_with_a_content_type_header_is_not_refused(api):
    response = api.http.get(
        "/v1/codes/ABCDE-FGHJK", headers={"X-Api-Key": "dev-admin-key", "Content-Type": "text/plain"}
    )
    assert response.status_code == 404 and response.json_body["error"] == "unknown_code"


def email(api, code, address="shopper@example.com", headers=None, site="shop"):
    body = json.dumps({"site_key": site, "code": code, "email": address}).encode()
    return api.http.post("/offers/email", headers={**BROWSER, **(headers or {})}, body=body)


def test_emailing_a_code_is_no_relay_limited_per_code_and_only_from_the_shops_pages(shop):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    boto3.client("sesv2", region_name="us-east-1").create_email_identity(EmailIdentity="offers@offboard.example")
    code = decide(shop).json_body["offer"]["code"]
    no_origin = shop.http.post(
        "/offers/email",
        headers={"Content-Type": "text/plain", "User-Agent": CHROME},
        body=json.dumps({"site_key": "shop", "code": code, "email": "victim@example.com"}).encode(),
    )
    assert no_origin.status_code == 403 and no_origin.json_body["error"] == "origin_required"
    answers = [email(shop, code, f"person{i}@example.com").status_code for i in range(5)]
    assert answers == [202, 202, 202, 429, 429]
    assert len(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages) == 3


def test_public_endpoints_answer_a_guessed_code_like_a_real_one(shop):
    boto3.client("sesv2", region_name="us-east-1").create_email_identity(EmailIdentity="offers@offboard.example")
    code = decide(shop).json_body["offer"]["code"]
    real = email(shop, code)
    guessed = email(shop, "ABCDE-FGHJK")
    assert (real.status_code, real.json_body) == (guessed.status_code, guessed.json_body) == (202, {"accepted": True})
    event = {"site_key": "shop", "campaign_id": "five-off", "variant_id": "a", "event": "claim"}
    twice = [
        shop.http.post("/offers/events", headers=BROWSER, body=json.dumps({**event, "code": code}).encode())
        for _ in range(2)
    ]
    unknown = shop.http.post(
        "/offers/events", headers=BROWSER, body=json.dumps({**event, "code": "ZZZZZ-ZZZZZ"}).encode()
    )
    assert twice[1].json_body == unknown.json_body == {"counted": False} and twice[1].status_code == unknown.status_code


def test_a_client_sending_too_many_events_is_slowed_down(shop, monkeypatch):
    monkeypatch.setenv("OFFER_EVENTS_PER_IP_PER_MINUTE", "3")
    from chalicelib.core.settings import forget_settings

    forget_settings()
    body = json.dumps({"site_key": "shop", "code": "ABCDE-FGHJK", "event": "impression"}).encode()
    statuses = [shop.http.post("/offers/events", headers=BROWSER, body=body).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_an_origin_with_its_default_port_is_stored_as_browsers_send_it(api):
    created = api.admin(
        "POST", "/v1/sites", {"site_key": "ported", "name": "P", "allowed_origins": ["HTTPS://Shop.Example:443"]}
    )
    assert created.json_body["allowed_origins"] == ["https://shop.example"]


def test_a_guessed_code_meets_the_same_email_limit_as_a_real_one(shop):
    boto3.client("sesv2", region_name="us-east-1").create_email_identity(EmailIdentity="offers@offboard.example")
    code = decide(shop).json_body["offer"]["code"]
    real = [email(shop, code, f"r{i}@example.com").status_code for i in range(4)]
    guessed = [email(shop, "ABCDE-23456", f"g{i}@example.com").status_code for i in range(4)]
    assert real == guessed == [202, 202, 202, 429]


def test_a_dismissed_offer_does_not_come_straight_back_with_its_code(shop):
    first = decide(shop).json_body
    event = {
        "site_key": "shop",
        "visitor_id": "v1",
        "campaign_id": "five-off",
        "variant_id": "a",
        "code": first["offer"]["code"],
        "event": "dismiss",
        "how": "close",
    }
    assert shop.http.post("/offers/events", headers=BROWSER, body=json.dumps(event).encode()).json_body == {
        "counted": True
    }
    assert decide(shop).json_body == {"show": False, "reason": "dismissed"}


def test_every_till_refusal_is_a_problem_body_never_a_valid_code(shop):
    """16.8: a refusal answers `error`, `message` and the machine-readable `outcome`; a code the
    customer may not use is never `"valid": true` inside a refusal."""
    limited = {**CAMPAIGN, "redemption": {"per_customer": 1}, "caps": {"cooldown_days": 0, "max_per_visitor": 5}}
    assert shop.admin("PUT", "/v1/sites/shop/campaigns/five-off", limited).status_code == 200
    first, second = (decide(shop, visitor_id=v).json_body["offer"]["code"] for v in ("v1", "v2"))
    till = {"channel": "web", "customer_id": "cust-7"}
    assert shop.admin("POST", f"/v1/codes/{first}/redemptions", {**till, "order_ref": "o1"}).status_code == 200
    answers = {
        "customer_limit": shop.admin("POST", f"/v1/codes/{second}/redemptions", {**till, "order_ref": "o2"}),
        "already_redeemed": shop.admin("POST", f"/v1/codes/{first}/redemptions", {**till, "order_ref": "o3"}),
        "customer_id_needed": shop.admin(
            "POST", f"/v1/codes/{second}/redemptions", {"channel": "web", "order_ref": "o4"}
        ),
        "not_redeemed_by_this_order": shop.admin("POST", f"/v1/codes/{second}/rollbacks", {"order_ref": "o2"}),
    }
    statuses = {outcome: response.status_code for outcome, response in answers.items()}
    assert statuses == {
        "customer_limit": 409,
        "already_redeemed": 409,
        "customer_id_needed": 400,
        "not_redeemed_by_this_order": 409,
    }
    for outcome, response in answers.items():
        assert response.json_body == {"error": outcome, "message": response.json_body["message"], "outcome": outcome}
        assert response.json_body["message"]


def test_dismissals_are_throttled_like_other_events_and_a_refused_one_stores_nothing(shop, monkeypatch):
    """16.6: a burst of dismissals from one client, each for a new visitor id, was all 200 and
    stored a visitor record each."""
    from chalicelib.core.settings import forget_settings

    monkeypatch.setenv("OFFER_EVENTS_PER_IP_PER_MINUTE", "3")
    forget_settings()
    event = {"site_key": "shop", "campaign_id": "five-off", "event": "dismiss", "how": "never"}
    statuses = [
        shop.http.post(
            "/offers/events", headers=BROWSER, body=json.dumps({**event, "visitor_id": f"flood{i}"}).encode()
        ).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    stored = [offers_visitor(f"flood{i}") is not None for i in range(5)]
    assert stored == [True, True, True, False, False]
    impression = {"site_key": "shop", "code": "ABCDE-FGHJK", "event": "impression"}
    limited = shop.http.post("/offers/events", headers=BROWSER, body=json.dumps(impression).encode())
    assert limited.status_code == 429
    assert limited.headers.get("Retry-After") == "60"  # the window is a minute (RFC 6585, section 4)


@pytest.mark.parametrize("code", [12345, ["ABCDE-FGHJK"], {"code": "ABCDE-FGHJK"}, True, 0.5])
@pytest.mark.parametrize("event", ["impression", "claim"])
def test_a_code_of_the_wrong_json_type_is_a_400(shop, code, event):
    """16.6: it answered 200 `{"counted": false}` as if it were a code no one had."""
    body = {"site_key": "shop", "campaign_id": "five-off", "variant_id": "a", "event": event, "code": code}
    response = shop.http.post("/offers/events", headers=BROWSER, body=json.dumps(body).encode())
    assert (response.status_code, response.json_body["error"]) == (400, "bad_field")
    dismiss = {"site_key": "shop", "campaign_id": "five-off", "visitor_id": "v1", "event": "dismiss", "how": "close"}
    refused = shop.http.post("/offers/events", headers=BROWSER, body=json.dumps({**dismiss, "code": 7}).encode())
    assert refused.status_code == 400
    assert offers_visitor("v1") is None


def offers_visitor(visitor_id: str):
    from chalicelib.storage import offers

    return offers.get_or_none(offers.VisitorState, f"VISITOR#shop#{visitor_id}", "STATE")


def test_only_a_customer_id_the_shop_signed_follows_the_customer(api):
    """16.5 over HTTP: the site's secret comes with the site (and with each rotation); a decision
    naming a customer without the shop's signature is an anonymous visitor's."""
    from chalicelib.offers.identity import customer_hash

    created = api.admin("POST", "/v1/sites", {"site_key": "shop", "name": "Shop", "allowed_origins": [ORIGIN]})
    secret = created.json_body["secret"]
    assert api.admin("PUT", "/v1/sites/shop/campaigns/five-off", CAMPAIGN).status_code == 200
    signed = {"customer_id": "cust-42", "customer_hash": customer_hash(secret, "cust-42")}
    victim = decide(api, visitor_id="phone", **signed).json_body["offer"]["code"]
    assert decide(api, visitor_id="laptop", **signed).json_body["offer"]["code"] == victim
    stranger = decide(api, visitor_id="script", customer_id="cust-42", customer_hash="0" * 64).json_body
    assert stranger["offer"]["code"] != victim
    rotated = api.admin("POST", "/v1/sites/shop/secrets")
    assert rotated.status_code == 200 and rotated.json_body["secret"] != secret
    assert rotated.json_body["secrets_accepted"] == 2
    assert api.admin("POST", "/v1/sites/nope/secrets").status_code == 404
    assert api.http.post("/v1/sites/shop/secrets").status_code == 401


@pytest.mark.parametrize(
    "customer",
    [
        {"customer_id": "c", "customer_hash": "\u00e9"},
        {"customer_id": "c", "customer_hash": "\uff41\uff42"},  # fullwidth letters
        {"customer_id": "c", "customer_hash": "\ud800"},
        {"customer_id": "\ud800", "customer_hash": "0" * 64},
        {"customer_id": "c", "customer_hash": "g" * 64},
    ],
)
@pytest.mark.parametrize("path", ["/offers/decide", "/offers/events"])
def test_a_customer_claim_that_cannot_be_a_signature_is_never_a_500(shop, customer, path):
    """An unsigned or unverifiable customer id is an anonymous visitor's, or a 400 for text that
    is no text (a lone surrogate); hmac.compare_digest raised TypeError on non-ASCII before."""
    body = {"site_key": "shop", "visitor_id": "v7", "page_url": f"{ORIGIN}/cart", "cart_value": 42.5, "currency": "USD"}
    body.update(customer)
    if path == "/offers/events":
        body.update(event="dismiss", campaign_id="five-off", how="close")
    # json.dumps writes the lone surrogate as the escape a hostile client sends
    response = shop.http.post(path, headers=BROWSER, body=json.dumps(body).encode())
    assert response.status_code in (200, 202, 400), response.body
    if response.status_code == 200 and path == "/offers/decide":
        assert response.json_body["show"], response.json_body  # decided as an anonymous visitor


@pytest.mark.parametrize(
    ("path", "body", "status", "error"),
    [
        ("/offers/events", {"site_key": "shop", "event": "purchase"}, 400, "bad_event"),
        ("/offers/events", {"site_key": "shop", "event": 5}, 400, "bad_event"),
        ("/offers/events", {"site_key": "shop"}, 400, "bad_event"),
        ("/offers/events", {"event": "claim", "code": "ABCDE-FGHJK"}, 400, "bad_field"),
        (
            "/offers/events",
            {"site_key": "shop", "event": "dismiss", "how": "swipe", "visitor_id": "v1"},
            400,
            "bad_field",
        ),
        (
            "/offers/events",
            {"site_key": "shop", "event": "dismiss", "how": "close", "visitor_id": "v w"},
            400,
            "bad_field",
        ),
        (
            "/offers/events",
            {"site_key": "shop", "event": "dismiss", "how": "esc", "visitor_id": "v1", "campaign_id": 5},
            404,
            None,
        ),
        ("/offers/conversions", {"site_key": "shop"}, 400, "missing_field"),
        ("/offers/conversions", {"site_key": "shop", "visitor_id": ""}, 400, "missing_field"),
        ("/offers/conversions", {"site_key": "shop", "visitor_id": 5}, 400, "missing_field"),
        ("/offers/conversions", {"site_key": "shop", "visitor_id": "v w"}, 400, "bad_field"),
        ("/offers/conversions", {"site_key": "nope", "visitor_id": "v w"}, 404, "unknown_site"),
        ("/offers/email", {"site_key": "shop", "code": "ABCDE-FGHJK", "email": 5}, 400, "bad_email"),
        ("/offers/email", {"site_key": "shop", "code": "ABCDE-FGHJK"}, 400, "bad_email"),
        ("/offers/email", {"site_key": "shop", "code": 5, "email": "a@example.com"}, 202, None),
    ],
)
def test_each_beacon_refusal_keeps_its_code(shop, path, body, status, error):
    """What the browser endpoints answer to a bad body: the codes the snippet and the docs know,
    and a code of the wrong type in an email request answered like an unknown code (no oracle)."""
    response = shop.http.post(path, headers=BROWSER, body=json.dumps(body).encode())
    assert response.status_code == status
    if error:
        assert response.json_body["error"] == error


def test_a_typo_in_a_site_or_kill_switch_body_is_refused_not_ignored(shop):
    """An unknown field is refused by name (docs/inputs.md), so a typo cannot leave a default in
    place: `allowed_orgins` would leave a site without its origins, `enbled` the switch as it was."""
    typo = shop.admin("POST", "/v1/sites", {"site_key": "s2", "name": "S", "allowed_origins": [ORIGIN], "nmae": "x"})
    assert typo.status_code == 400 and "nmae" in typo.json_body["message"]
    assert shop.admin("GET", "/v1/sites/s2").status_code == 404
    switch = shop.admin("PUT", "/v1/sites/shop/campaigns/five-off/enabled", {"enabled": False, "enbled": True})
    assert switch.status_code == 400 and "enbled" in switch.json_body["message"]
    assert decide(shop).json_body.get("show") is True  # the switch did not move
