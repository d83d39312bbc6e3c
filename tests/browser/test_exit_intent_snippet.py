"""The snippet in Debian's chromium: the pointer leaves through the top, the dialog shows a real
code from the API, and a second exit in the same page view does not call again. The demo shop
carries the Content-Security-Policy the README asks of shops (see test_snippet_on_a_shop.py for
other origins, themes that hide the dialog, and dismissals)."""

import json
import re

import pytest

from tests.browser.clock import all_requests_seen

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


@pytest.fixture
def shop(local_stack):
    origin = local_stack.base_url
    local_stack.admin(
        "POST", "/v1/sites", {"site_key": "browser-shop", "name": "Browser shop", "allowed_origins": [origin]}
    )
    campaign = {
        "offer": {"kind": "percent", "value": 12, "expires_minutes": 15},
        "targeting": {"paths": ["/demo/*"], "min_cart_value": 50, "currency": "USD"},
        "variants": [{"variant_id": "a", "texts": {"headline": "Wait, 12% off", "cta": "Copy code"}}],
        "budget": {"total_codes": 100},
    }
    assert local_stack.admin("PUT", "/v1/sites/browser-shop/campaigns/twelve", campaign).status_code == 200
    return local_stack


@pytest.fixture
def shopper(browser):
    context = browser.new_context(user_agent=CHROME, viewport={"width": 1200, "height": 800})
    context.add_init_script(
        "window.__violations = []; addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI), true);"
    )
    context.clock.install()  # the snippet's minimum time on the page passes by fast_forward, not by waiting
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error" else None)
    yield page
    context.close()


def leave_through_the_top(page):
    page.mouse.move(600, 400)
    page.mouse.move(600, 10, steps=5)
    page.mouse.move(600, -20, steps=2)


def test_exit_intent_shows_a_real_code_once_per_page_view(shop, shopper, tmp_path):
    decisions = []
    shopper.on("request", lambda r: decisions.append(r.url) if r.url.endswith("/offers/decide") else None)
    shopper.goto(f"{shop.base_url}/demo/shop?site=browser-shop&min_seconds=1")
    shopper.clock.fast_forward(1300)  # the snippet's minimum time on page
    leave_through_the_top(shopper)

    dialog = shopper.get_by_role("dialog")
    dialog.wait_for(timeout=10_000)
    assert dialog.get_by_role("heading").inner_text() == "Wait, 12% off"
    code = dialog.get_by_label("Your code").inner_text()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}", code)
    assert re.fullmatch(r"Expires in 1[45]:\d\d", dialog.get_by_role("timer").inner_text())
    assert shop.admin("GET", f"/v1/codes/{code}").json()["valid"] is True
    position = shopper.locator("[data-offboard]").evaluate(
        "host => getComputedStyle(host.shadowRoot.querySelector('.backdrop')).position"
    )
    assert position == "fixed"  # styled under the page's policy
    assert shopper.evaluate("window.__violations") == [] and shopper.problems == []
    shopper.screenshot(path=str(tmp_path / "offer.png"))

    shopper.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    leave_through_the_top(shopper)
    all_requests_seen(shopper, shop.base_url)
    assert len(decisions) == 1
    assert shopper.get_by_role("dialog").count() == 0

    report = shop.admin("GET", "/v1/sites/browser-shop/campaigns/twelve/report").json()
    assert report["arms"][0]["impressions"] == 1


def test_dont_show_again_is_respected_on_the_next_page_view(shop, shopper):
    decisions = []
    shopper.on("request", lambda r: decisions.append(r.url) if r.url.endswith("/offers/decide") else None)
    shopper.goto(f"{shop.base_url}/demo/shop?site=browser-shop&min_seconds=1")
    shopper.clock.fast_forward(1300)
    leave_through_the_top(shopper)
    shopper.get_by_role("button", name="Don’t show this again").click()
    shopper.reload()
    shopper.clock.fast_forward(1300)
    leave_through_the_top(shopper)
    all_requests_seen(shopper, shop.base_url)
    assert len(decisions) == 1


def test_no_exit_before_the_minimum_time_on_page(shop, shopper):
    decisions = []
    shopper.on("request", lambda r: decisions.append(r.url) if r.url.endswith("/offers/decide") else None)
    shopper.goto(f"{shop.base_url}/demo/shop?site=browser-shop&min_seconds=5")
    leave_through_the_top(shopper)
    all_requests_seen(shopper, shop.base_url)
    assert decisions == []
    # Past the minimum, the same page view asks: the early exit was ignored, not counted as the one ask.
    shopper.clock.fast_forward(5000)
    with shopper.expect_request(lambda r: r.url.endswith("/offers/decide")) as asked:
        leave_through_the_top(shopper)
    assert json.loads(asked.value.post_data)["seconds_on_page"] >= 5


def test_a_spent_campaign_shows_its_no_discount_message_without_a_code(local_stack, shopper):
    origin = local_stack.base_url
    local_stack.admin("POST", "/v1/sites", {"site_key": "spent-shop", "name": "Spent", "allowed_origins": [origin]})
    campaign = {
        "offer": {"kind": "percent", "value": 12},
        "budget": {"total_codes": 0},
        "fallback": {"texts": {"headline": "Free returns on every order", "body": "Take your time."}},
    }
    assert local_stack.admin("PUT", "/v1/sites/spent-shop/campaigns/spent", campaign).status_code == 200
    shopper.goto(f"{origin}/demo/shop?site=spent-shop&min_seconds=1")
    shopper.clock.fast_forward(1300)
    leave_through_the_top(shopper)
    dialog = shopper.get_by_role("dialog")
    dialog.wait_for(timeout=10_000)
    assert dialog.get_by_role("heading").inner_text() == "Free returns on every order"
    assert "Expires" not in dialog.inner_text() and "undefined" not in dialog.inner_text()
    dialog.get_by_role("button", name="Continue shopping").click()
    assert shopper.get_by_role("dialog").count() == 0
    assert shopper.evaluate("window.__violations") == [] and shopper.problems == []


def test_the_snippet_sends_the_customer_the_shops_server_signed(shop, browser):
    """16.5: the page carries the customer id and the hash the shop's server computed; the snippet
    sends both, so the customer gets their own code on every device, and a page claiming the
    same id without the hash gets a code of its own."""
    import hashlib
    import hmac

    secret = shop.admin("POST", "/v1/sites/browser-shop/secrets").json()["secret"]
    signature = hmac.new(secret.encode(), b"cust-42", hashlib.sha256).hexdigest()

    def visit(customer: dict) -> tuple[dict, str]:
        context = browser.new_context(user_agent=CHROME, viewport={"width": 1200, "height": 800})
        context.add_init_script(f"window.offboardCustomer = {json.dumps(customer)};")
        context.clock.install()
        page = context.new_page()
        sent = []
        page.on("request", lambda r: sent.append(r.post_data) if r.url.endswith("/offers/decide") else None)
        page.goto(f"{shop.base_url}/demo/shop?site=browser-shop&min_seconds=1")
        page.clock.fast_forward(1300)
        leave_through_the_top(page)
        dialog = page.get_by_role("dialog")
        dialog.wait_for(timeout=10_000)
        code = dialog.get_by_label("Your code").inner_text()
        context.close()
        return json.loads(sent[0]), code

    phone, phone_code = visit({"id": "cust-42", "hash": signature})
    assert (phone["customer_id"], phone["customer_hash"], phone["known_customer"]) == ("cust-42", signature, True)
    assert visit({"id": "cust-42", "hash": signature})[1] == phone_code  # another device, the same customer
    claimed, claimed_code = visit({"id": "cust-42", "hash": "0" * 64})
    assert claimed["customer_id"] == "cust-42" and claimed_code != phone_code
