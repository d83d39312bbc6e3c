"""Every JSON field of every JSON route gets every JSON type: null, booleans, numbers (huge,
negative, NaN), strings (empty, huge, unicode, NUL), lists, objects and deep nesting. The answer
is always below 500, a 4xx always has the documented `{"error", "message"}` body, and a refused
request stores nothing. The routes and their fields come from `openapi.yaml`, so a route added
there without a base body here fails the test."""

import itertools
import json
from pathlib import Path

import pytest
import yaml

from chalicelib.storage import cancel, lists, offers, subscribers
from tests.api.test_offers_api import BROWSER, CAMPAIGN, ORIGIN, decide

ROOT = Path(__file__).resolve().parents[2]
DEEP_LIST: list = []
for _ in range(60):
    DEEP_LIST = [DEEP_LIST]
DEEP_OBJECT: dict = {}
for _ in range(60):
    DEEP_OBJECT = {"a": DEEP_OBJECT}
HOSTILE = [
    None,
    True,
    False,
    0,
    -1,
    10**30,
    1e308,
    float("nan"),
    "",
    "x" * 20_000,
    "ünï©ødé ไทย 👋",
    "nul\u0000byte",
    [],
    ["a", 1, None],
    {},
    {"nested": {"x": [1, 2]}},
    DEEP_LIST,
    DEEP_OBJECT,
]
SKIPPED = {("POST", "/v1/engagement")}  # signed: its own fuzz test signs each body


def leaves(value, path=()):
    """Every field path in a body (into objects and the first element of lists)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key)
            yield from leaves(child, (*path, key))
    elif isinstance(value, list) and value:
        yield (*path, 0)
        yield from leaves(value[0], (*path, 0))


def replaced(body, path, new):
    body = json.loads(json.dumps(body))
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return body


def json_routes() -> set[tuple[str, str]]:
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    found = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            content = (operation.get("requestBody") or {}).get("content") or {}
            if "application/json" in content or "text/plain" in content:
                found.add((method.upper(), path))
    return found


@pytest.fixture
def world(api):
    assert (
        api.admin("POST", "/v1/sites", {"site_key": "shop", "name": "Shop", "allowed_origins": [ORIGIN]}).status_code
        == 201
    )
    assert api.admin("PUT", "/v1/sites/shop/campaigns/five-off", CAMPAIGN).status_code == 200
    code = decide(api, visitor_id="v1", cart_value=42.5).json_body["offer"]["code"]
    return api, code


class Route:
    def __init__(self, method, template, body, browser=False, stored=None):
        self.method, self.template, self.body, self.browser, self.stored = method, template, body, browser, stored


def routes(code: str) -> dict[tuple[str, str], Route]:
    campaign = {
        **CAMPAIGN,
        "name": "Fuzzed",
        "priority": 1,
        "enabled": True,
        "holdout": 0.1,
        "caps": {"cooldown_days": 1, "max_per_visitor": 2},
        "budget": {"total_codes": 10, "codes_per_day": 5},
        "min_seconds_on_page": 1,
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2030-01-01T00:00:00Z",
    }
    return {
        ("POST", "/offers/decide"): Route(
            "POST",
            "/offers/decide",
            {
                "site_key": "shop",
                "visitor_id": "v{n}",
                "session_id": "s1",
                "page_url": f"{ORIGIN}/cart",
                "cart_value": 42.5,
                "currency": "USD",
                "device": "desktop",
                "utm_source": "mail",
                "known_customer": False,
                "returning": True,
                "seconds_on_page": 30,
            },
            browser=True,
        ),
        ("POST", "/offers/events"): Route(
            "POST",
            "/offers/events",
            {"site_key": "shop", "code": code, "campaign_id": "five-off", "variant_id": "a", "event": "impression"},
            browser=True,
        ),
        ("POST", "/offers/email"): Route(
            "POST", "/offers/email", {"site_key": "shop", "code": code, "email": "visitor@example.com"}, browser=True
        ),
        ("POST", "/offers/conversions"): Route(
            "POST", "/offers/conversions", {"site_key": "shop", "visitor_id": "v1"}, browser=True
        ),
        ("POST", "/v1/unsubscribe-headers"): Route(
            "POST",
            "/v1/unsubscribe-headers",
            {"email": "alice@example.com", "list_id": "newsletter", "campaign_id": "c1"},
        ),
        ("POST", "/v1/send-check"): Route(
            "POST",
            "/v1/send-check",
            {
                "list_id": "newsletter",
                "channel": "sms",
                "recipients": [{"email": "alice@example.com", "phone": "+66812345678", "region": "TH"}],
            },
        ),
        ("POST", "/v1/lists"): Route(
            "POST",
            "/v1/lists",
            {
                "list_id": "new{n}",
                "name": "New",
                "description": "A list",
                "branding": {"sender_name": "Us", "accent_color": "#123456", "logo_url": "https://logo.example/x.png"},
            },
            stored=lambda n: lists.get_list(f"new{n}") is not None,
        ),
        ("POST", "/v1/lists/{list_id}/subscribers"): Route(
            "POST",
            "/v1/lists/newsletter/subscribers",
            {"email": "carol{n}@example.com", "resubscribe": False},
            stored=lambda n: any(
                s.email == f"carol{n}@example.com" for s in _subscriptions_named(f"carol{n}@example.com")
            ),
        ),
        ("PUT", "/v1/lists/{list_id}/sunset-policy"): Route(
            "PUT",
            "/v1/lists/newsletter/sunset-policy",
            {"enabled": True, "inactive_days": 180, "min_sends": 10, "grace_days": 14, "max_share": 0.05},
        ),
        ("PUT", "/v1/lists/{list_id}/frequencies"): Route(
            "PUT",
            "/v1/lists/newsletter/frequencies",
            {"frequencies": [{"id": "weekly", "label": "Weekly digest", "labels": {"th": "สรุปรายสัปดาห์"}}]},
        ),
        ("POST", "/v1/subscribers/find"): Route("POST", "/v1/subscribers/find", {"email": "alice@example.com"}),
        ("POST", "/v1/sites"): Route(
            "POST",
            "/v1/sites",
            {"site_key": "site{n}", "name": "Shop", "allowed_origins": [ORIGIN]},
            stored=lambda n: offers.get_site(f"site{n}") is not None,
        ),
        ("PUT", "/v1/sites/{site_key}/campaigns/{campaign_id}"): Route(
            "PUT",
            "/v1/sites/shop/campaigns/c{n}",
            campaign,
            stored=lambda n: f"c{n}" in (offers.get_site("shop").campaigns or {}),
        ),
        ("PUT", "/v1/sites/{site_key}/campaigns/{campaign_id}/enabled"): Route(
            "PUT", "/v1/sites/shop/campaigns/five-off/enabled", {"enabled": True}
        ),
        ("PATCH", "/v1/lists/{list_id}"): Route(
            "PATCH",
            "/v1/lists/newsletter",
            {
                "name": "Renamed {n}",
                "description": "A list",
                "branding": {"sender_name": "Us", "accent_color": "#123456", "logo_url": "https://logo.example/x.png"},
            },
            stored=lambda n: lists.get_list("newsletter").name == f"Renamed {n}",
        ),
        ("PATCH", "/v1/sites/{site_key}"): Route(
            "PATCH",
            "/v1/sites/shop",
            {"name": "Shop {n}", "allowed_origins": [ORIGIN]},
            stored=lambda n: offers.get_site("shop").name == f"Shop {n}",
        ),
        ("PATCH", "/v1/sites/{site_key}/campaigns/{campaign_id}"): Route(
            "PATCH",
            "/v1/sites/shop/campaigns/five-off",
            {"name": "Five {n}", "priority": 3, "holdout": 0.1, "budget": {"total_codes": 50, "codes_per_day": 10}},
            stored=lambda n: offers.get_site("shop").campaigns["five-off"].get("name") == f"Five {n}",
        ),
        ("POST", "/v1/codes/{code}/redemptions"): Route(
            "POST",
            f"/v1/codes/{code}/redemptions",
            {
                "order_ref": "order-{n}",
                "channel": "store",
                "order_value": 50,
                "currency": "USD",
                "store_id": "s1",
                "customer_id": "cust",
                "first_order": True,
            },
        ),
        ("POST", "/v1/codes/{code}/rollbacks"): Route(
            "POST", f"/v1/codes/{code}/rollbacks", {"order_ref": "order-{n}"}
        ),
        ("POST", "/v1/cancel-sessions"): Route(
            "POST",
            "/v1/cancel-sessions",
            {
                "business": "fuzz",
                "customer_id": "cus{n}",
                "subscription_id": "sub{n}",
                "plan": "Pro",
                "price": 1999,
                "currency": "USD",
                "tenure_months": 3,
                "locale": "th",
                "return_url": "https://shop.example/account",
                "effective_date": "2030-01-01",
            },
            stored=lambda n: bool(cancel.sessions_of_customer("fuzz", f"cus{n}")),
        ),
        ("PUT", "/v1/cancel-flows/{business}"): Route(
            "PUT",
            "/v1/cancel-flows/fuzz{n}",
            {
                "reasons": ["too_expensive", "unused", "other"],
                "offers": {
                    "too_expensive": [{"offer_id": "lite", "kind": "cheaper_plan", "plan": "Lite", "price": 900}],
                    "unused": [{"offer_id": "p1", "kind": "pause", "months": 1, "percent": 0}],
                },
                "holdout_percent": 10,
                "budget": 100,
                "retention_days": 1200,
            },
            stored=lambda n: cancel.load_flow(f"fuzz{n}") is not None,
        ),
        ("PUT", "/v1/cancel-flows/{business}/webhook"): Route(
            "PUT",
            "/v1/cancel-flows/hook{n}/webhook",
            {"url": "https://hooks.example/offboard"},
            stored=lambda n: cancel.load_webhook(f"hook{n}") is not None,
        ),
    }


def _subscriptions_named(address):
    from chalicelib.core.ids import subscriber_id_for
    from chalicelib.core.settings import get_settings

    return subscribers.subscriptions_of(subscriber_id_for(get_settings().subscriber_id_key, address))


def fill(value, n):
    if isinstance(value, str):
        return value.replace("{n}", str(n))
    if isinstance(value, dict):
        return {k: fill(v, n) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, n) for v in value]
    return value


def test_every_json_route_of_the_description_has_a_fuzz_body(world):
    _, code = world
    assert json_routes() - SKIPPED == set(routes(code))


def test_every_field_with_every_type_is_answered_below_500_and_stores_nothing_when_refused(world):
    api, code = world
    counter = itertools.count()
    seen = 0
    for route in routes(code).values():
        for path, hostile in itertools.product(list(leaves(route.body)), HOSTILE):
            n = next(counter)
            body = replaced(fill(route.body, n), path, hostile)
            payload = json.dumps(body).encode()  # NaN goes out as NaN, as Python and some clients send it
            url = fill(route.template, n)
            headers = BROWSER if route.browser else {"X-Api-Key": "dev-admin-key", "Content-Type": "application/json"}
            response = api.http.request(route.method, url, headers=headers, body=payload)
            seen += 1
            where = f"{route.method} {url} {'.'.join(map(str, path))}={str(hostile)[:40]!r}"
            assert response.status_code < 500, (where, response.body[:300])
            documented_json = route.template.endswith("/redemptions") and response.status_code in (409, 410)
            if response.status_code >= 400 and not documented_json:
                problem = json.loads(response.body)
                assert isinstance(problem.get("error"), str) and isinstance(problem.get("message"), str), where
                if route.stored is not None:
                    assert not route.stored(n), f"{where} was refused but stored"
    assert seen > 1000


@pytest.mark.parametrize("body", [b"[" * 6000, b'{"a":' * 1500, b'{"site_key": "\xc3\x28"}', b"NaN", b"\xff\xfe"])
def test_deep_or_strange_json_on_public_and_admin_routes_is_a_400(world, body):
    api, _ = world
    public = api.http.post("/offers/decide", headers=BROWSER, body=body)
    admin = api.http.post(
        "/v1/send-check", headers={"X-Api-Key": "dev-admin-key", "Content-Type": "application/json"}, body=body
    )
    assert public.status_code == 400 and admin.status_code == 400
    assert public.json_body["error"] == admin.json_body["error"] == "malformed_json"
