"""Issue 17 item 11 (the demo shop's half): the demo shop can be triggered on a phone and says how.
A 390 px touch phone in Chromium reads down the products and flicks back up: the exit-intent
dialog opens with a real code, under the page's own Content-Security-Policy."""

import base64
import hashlib
import re

import pytest

from tests.browser.axe import new_view
from tests.browser.clock import all_requests_seen
from tests.browser.touch import read_down_then_flick_up

pytestmark = [pytest.mark.browser, pytest.mark.server]
CODE = re.compile(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")
WATCH_CSP = (
    "window.__violations = []; addEventListener('securitypolicyviolation',"
    " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI), true);"
)


# Scroll the window and resolve once the page has had its scroll event (the snippet's listener, added
# before this one, has run by then).
SCROLLED_TO = "y => new Promise(r => { addEventListener('scroll', r, {once: true}); scrollTo(0, y); })"


@pytest.fixture(scope="module")
def phone_demo(local_stack):
    origin = local_stack.base_url
    site = {"site_key": "phone-demo", "name": "Phone demo", "allowed_origins": [origin]}
    assert local_stack.admin("POST", "/v1/sites", site).status_code in (201, 409)
    campaign = {  # the demo's own campaign has a 10% holdout: this one shows every time
        "offer": {"kind": "percent", "value": 10, "expires_minutes": 15},
        "targeting": {"paths": ["/demo/*"], "min_cart_value": 50, "currency": "USD"},
        "variants": [{"variant_id": "a", "texts": {"headline": "Wait, 10% off", "cta": "Copy code"}}],
        "budget": {"total_codes": 100},
    }
    assert local_stack.admin("PUT", "/v1/sites/phone-demo/campaigns/phone", campaign).ok
    return f"{origin}/demo/shop?site=phone-demo&min_seconds=1"


def test_a_phone_triggers_the_demo_shops_offer_by_scrolling_back_up(browser, phone_demo):
    context, page = new_view(browser, "en", "phone")
    context.add_init_script(WATCH_CSP)
    context.clock.install()
    try:
        page.goto(phone_demo)
        how = page.get_by_role("region", name="See the exit-intent offer").inner_text()
        assert "On a computer:" in how and "move the pointer out of the window through the top" in how
        assert "On a phone or tablet:" in how and "flick quickly back up" in how
        assert page.evaluate("document.documentElement.scrollHeight") > 2 * 844  # there is something to scroll
        assert page.evaluate("matchMedia('(pointer: coarse)').matches")  # a touch device, as the snippet sees it
        page.clock.fast_forward(1100)  # the minimum time on the page
        with page.expect_response(lambda r: r.url.endswith("/offers/decide")) as decided:
            read_down_then_flick_up(page)
        answer = decided.value.json()
        assert answer["show"] and CODE.fullmatch(answer["offer"]["code"]), answer
        dialog = page.get_by_role("dialog")
        dialog.wait_for(timeout=10_000)
        assert dialog.get_by_label("Your code").inner_text() == answer["offer"]["code"]
        box, view = dialog.bounding_box(), page.viewport_size
        assert box["width"] <= view["width"] and box["y"] + box["height"] <= view["height"] + 1  # on screen
        assert page.evaluate("window.__violations") == []
    finally:
        context.close()


def test_a_fast_scroll_up_does_nothing_on_a_desktop(browser, phone_demo):
    """A desktop's exit intent is the pointer leaving: scrolling a long page is just reading."""
    context, page = new_view(browser, "en", "desktop")
    context.clock.install()
    calls = []
    page.on("request", lambda r: calls.append(r.url) if r.url.endswith("/offers/decide") else None)
    try:
        page.goto(phone_demo)
        page.clock.fast_forward(1100)  # the minimum time on the page
        page.evaluate(SCROLLED_TO, 3000)
        page.evaluate(SCROLLED_TO, 0)  # thousands of px per ms upwards: a flick, were this a phone
        all_requests_seen(page, phone_demo.split("/demo/")[0])
        assert calls == []
    finally:
        context.close()


def test_the_demo_shops_style_hash_matches_its_style():
    from pathlib import Path

    html = (Path(__file__).parents[2] / "chalicelib/core/templates/demo_shop.html").read_text()
    style = re.search(r"<style>([^<]*)</style>", html).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in html
