"""The cancellation flow embedded on the business's own page (another origin) in Debian's
chromium at 390 px: under the strict CSP the README's snippet needs (`script-src` and
`frame-src` for offboard only) it shows, the cancel button is in view without scrolling, one
click cancels; a page whose origin the flow does not list cannot frame it."""

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from tests.browser.test_snippet_on_a_shop import WATCH_VIOLATIONS

pytestmark = [pytest.mark.browser, pytest.mark.server]

POLICY = "default-src 'none'; script-src {api}; frame-src {api}"


def account_page(api: str, session_url: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your account</title></head>
<body><main><h1>Your account</h1><div id="offboard-cancel"></div></main>
<script src="{api}/cancel/embed/snippet.js" data-url="{session_url}" data-target="offboard-cancel" async></script>
</body></html>"""


def open_session(local_stack, business: str, subscription: str) -> str:
    body = {
        "business": business,
        "customer_id": f"cus_{subscription}",
        "subscription_id": subscription,
        "plan": "Pro monthly",
        "price": 1999,
        "currency": "USD",
        "return_url": "https://shop.example/account",
        "effective_date": (date.today() + timedelta(days=14)).isoformat(),
    }
    response = local_stack.admin("POST", "/v1/cancel-sessions", body)
    response.raise_for_status()
    return local_stack.base_url + urlsplit(response.json()["url"]).path


def test_the_flow_embedded_under_a_strict_csp_cancels_in_one_click(local_stack, shop_pages, page):
    api = local_stack.base_url
    flow = {"embed_origins": [shop_pages.origin]}
    local_stack.admin("PUT", "/v1/cancel-flows/embed-shop", flow).raise_for_status()
    url = open_session(local_stack, "embed-shop", "emb1")
    shop = shop_pages.add("/account-embed", account_page(api, url), {"Content-Security-Policy": POLICY.format(api=api)})
    page.add_init_script(WATCH_VIOLATIONS)
    page.goto(shop)
    frame = page.frame_locator("[data-offboard-cancel] iframe")
    cancel = frame.get_by_role("button", name="Cancel subscription")
    cancel.wait_for()
    box, viewport = cancel.bounding_box(), page.viewport_size
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]  # in view without scrolling
    assert page.locator("[data-offboard-cancel] iframe").get_attribute("title") == "Cancel your subscription"
    cancel.click()
    assert "Your subscription is cancelled" in frame.get_by_role("status").inner_text()
    assert page.evaluate("window.__violations") == []
    assert page.evaluate("document.querySelectorAll('[style], style').length") == 0


def test_a_page_the_flow_does_not_list_cannot_frame_it(local_stack, shop_pages, page):
    api = local_stack.base_url
    url = open_session(local_stack, "not-embedding", "emb2")
    shop = shop_pages.add(
        "/account-foreign", account_page(api, url), {"Content-Security-Policy": POLICY.format(api=api)}
    )
    page.goto(shop)
    page.locator("[data-offboard-cancel] iframe").wait_for(state="attached")
    # Wait until the frame settled either way: Chromium's error page, or the flow itself.
    for _ in range(100):
        inner = [f for f in page.frames if f != page.main_frame]
        if inner and (inner[0].url.startswith("chrome-error:") or inner[0].locator("[data-role=cancel]").count()):
            break
        page.wait_for_timeout(100)
    assert inner[0].url.startswith("chrome-error:")  # refused by frame-ancestors 'none'
    assert inner[0].locator("[data-role=cancel]").count() == 0
