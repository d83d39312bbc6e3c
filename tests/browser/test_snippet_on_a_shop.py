"""The snippet on a shop of another origin, in Debian's chromium: under a strict
Content-Security-Policy, with a theme that hides or restyles its element, and dismissed.

The shop pages come from a second local HTTP server (`shop_pages`), so every call the snippet
makes is cross-origin, as on a real shop, and each page carries the headers the test gives it."""

import json
import re
import time
import uuid

import pytest

from tests.browser.clock import all_requests_seen

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
CODE = re.compile(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")

# What the README documents ("The snippet on your shop"), the same policy with Trusted Types
# enforced, and the policy (style-src naming the API origin, which the snippet does not need).
DOCUMENTED_CSP = "default-src 'none'; script-src {api}; connect-src {api}"
POLICIES = {
    "documented": DOCUMENTED_CSP,
    "documented-trusted-types": DOCUMENTED_CSP + "; require-trusted-types-for 'script'; trusted-types 'none'",
    "api-origin-for-script-style-connect": "default-src 'none'; script-src {api}; style-src {api}; connect-src {api}",
}

# Recorded from the first script on the page (Playwright's init scripts are not subject to the CSP).
WATCH_VIOLATIONS = """
window.__violations = [];
addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
}, true);
"""

# The page's state and the dialog's, read through the open shadow root.
DIALOG_STATE = """() => {
  const host = document.querySelector("[data-offboard]");
  const root = host && host.shadowRoot;
  const dialog = root && root.querySelector("[role=dialog]");
  if (!dialog) return null;
  const backdrop = dialog.parentElement, d = getComputedStyle(dialog), b = getComputedStyle(backdrop);
  const r = dialog.getBoundingClientRect(), br = backdrop.getBoundingClientRect();
  let focus = document.activeElement;
  while (focus && focus.shadowRoot && focus.shadowRoot.activeElement) focus = focus.shadowRoot.activeElement;
  return {
    backdropPosition: b.position, backdropRect: [br.left, br.top, br.width, br.height],
    dialogBackground: d.backgroundColor, dialogVisibility: d.visibility, dialogDisplay: d.display,
    codeBorder: getComputedStyle(root.querySelector("[aria-label='Your code']")).borderTopStyle,
    rect: [r.left, r.top, r.right, r.bottom], viewport: [innerWidth, innerHeight], scrollY: scrollY,
    inlineStyles: root.querySelectorAll("style, [style]").length + document.querySelectorAll("[style]").length,
    focusInDialog: dialog.contains(focus),
  };
}"""

# Resolves at this observer's first report on the dialog. IntersectionObserver callbacks run in the
# order the observers were made, so by then the snippet's own (made with the dialog) has been handled.
SNIPPET_HAS_LOOKED = """() => new Promise(resolve => {
  const dialog = document.querySelector("[data-offboard]").shadowRoot.querySelector("[role=dialog]");
  new IntersectionObserver((entries, observer) => { observer.disconnect(); resolve(); }).observe(dialog);
})"""


def shop_page(api: str, site_key: str, head: str = "", min_seconds: int = 1) -> str:
    """A long page (so a scroll to the end would show), a search box to hold focus, the snippet."""
    paragraphs = "\n".join(f"<p>Product {i}: a very good thing to buy.</p>" for i in range(60))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>{head}</head>
<body>
<h1 id="top">A shop on another origin</h1>
<div id="marker"><label>Search <input id="search" type="search"></label></div>
{paragraphs}
<script src="{api}/offers/snippet.js" data-site-key="{site_key}" data-cart-value="80" data-currency="USD"
        data-min-seconds="{min_seconds}" async></script>
</body></html>"""


class Site:
    def __init__(self, stack, origin: str):
        self.stack = stack
        self.key = f"shop-{uuid.uuid4().hex[:10]}"
        created = stack.admin(
            "POST", "/v1/sites", {"site_key": self.key, "name": "Another origin", "allowed_origins": [origin]}
        )
        assert created.status_code == 201, created.text
        campaign = {
            "offer": {"kind": "percent", "value": 10, "expires_minutes": 15},
            "targeting": {"paths": ["/shop/*"], "min_cart_value": 50, "currency": "USD"},
            "variants": [{"variant_id": "a", "texts": {"headline": "Wait, 10% off", "cta": "Copy code"}}],
            "budget": {"total_codes": 100},
        }
        put = stack.admin("PUT", f"/v1/sites/{self.key}/campaigns/exit", campaign)
        assert put.status_code == 200, put.text

    def impressions(self) -> int:
        report = self.stack.admin("GET", f"/v1/sites/{self.key}/campaigns/exit/report").json()
        return sum(arm["impressions"] for arm in report["arms"] if arm["arm"] == "a")


@pytest.fixture
def site(local_stack, shop_pages):
    return Site(local_stack, shop_pages.origin)


class Shopper:
    """A desktop visitor, with every call the snippet makes and every problem the page reports."""

    def __init__(self, browser):
        self.context = browser.new_context(user_agent=CHROME, viewport={"width": 1200, "height": 800})
        self.context.add_init_script(WATCH_VIOLATIONS)
        self.context.clock.install()  # the snippet's timers move by fast_forward / run_for, not by waiting
        self.page = self.context.new_page()
        self.calls: list[tuple[str, dict]] = []
        self.problems: list[str] = []
        self.page.on("request", self._request)
        self.page.on("console", lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))

    def _request(self, request):
        if "/offers/" in request.url and request.method == "POST":
            self.calls.append((request.url.rsplit("/offers/", 1)[1], json.loads(request.post_data or "null")))

    def posted(self, path: str, **match) -> list[dict]:
        return [body for p, body in self.calls if p == path and all(body.get(k) == v for k, v in match.items())]

    def visit_and_leave(self, url: str) -> dict:
        """Open the page, stay past the minimum time, leave through the top; the decision's answer."""
        with self.page.expect_response(lambda r: r.url.endswith("/offers/decide")) as decided:
            self.page.goto(url)
            self.page.focus("#search")
            self.page.clock.fast_forward(1300)  # past the minimum time on the page
            self.page.mouse.move(600, 400)
            self.page.mouse.move(600, 10, steps=5)
            self.page.mouse.move(600, -20, steps=2)
        answer = decided.value.json()
        assert answer["show"], answer
        return answer

    def dialog_state(self) -> dict | None:
        return self.page.evaluate(DIALOG_STATE)

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__violations")

    def wait_until(self, check, seconds: float = 5.0):
        deadline = time.monotonic() + seconds
        while not check():
            assert time.monotonic() < deadline, "timed out"
            self.page.wait_for_timeout(100)


@pytest.fixture
def shopper(browser):
    shopper = Shopper(browser)
    yield shopper
    shopper.context.close()


@pytest.mark.parametrize("policy", POLICIES, ids=list(POLICIES))
def test_the_dialog_is_styled_under_a_strict_csp_on_another_origin(local_stack, shop_pages, site, shopper, policy):
    api = local_stack.base_url
    csp = POLICIES[policy].format(api=api)
    url = shop_pages.add(f"/shop/strict-{site.key}", shop_page(api, site.key), {"Content-Security-Policy": csp})

    answer = shopper.visit_and_leave(url)
    dialog = shopper.page.get_by_role("dialog")
    dialog.wait_for(timeout=10_000)
    code = dialog.get_by_label("Your code").inner_text()
    assert CODE.fullmatch(code) and code == answer["offer"]["code"]
    assert dialog.get_by_role("heading").inner_text() == "Wait, 10% off"

    state = shopper.dialog_state()
    assert state["backdropPosition"] == "fixed", state  # styled: an overlay, not text at the end of the page
    assert state["backdropRect"] == [0, 0, 1200, 800], state
    assert state["dialogBackground"] == "rgb(255, 255, 255)" and state["codeBorder"] == "dashed", state
    left, top, right, bottom = state["rect"]
    assert 0 < left < right < 1200 and 0 < top < bottom < 800, state  # centred in the viewport
    assert state["scrollY"] == 0, state  # focus did not scroll the page
    assert state["focusInDialog"], state
    assert state["inlineStyles"] == 0, state

    shopper.wait_until(lambda: site.impressions() == 1)
    assert shopper.violations() == [] and shopper.problems == []
    assert len(shopper.posted("decide")) == 1 and len(shopper.posted("events", event="impression")) == 1


# A theme hiding the snippet's element: the code is issued, but nobody sees it.
HIDING_THEMES = {
    "display-none": "[data-offboard]{display:none!important}",
    "visibility-hidden": "body>div:not(#marker){visibility:hidden}",
    "opacity-0": "div[data-offboard]{opacity:0}",
}
# A theme styling every div: the snippet's element must not move the page nor its dialog.
BUSY_THEME = "div{padding:30px;margin:20px;border:5px solid #ccc;transform:translateZ(0)}"


def test_an_impression_counts_only_a_dialog_someone_could_see(local_stack, shop_pages, site, shopper):
    api = local_stack.base_url
    code = None
    for name, css in HIDING_THEMES.items():
        url = shop_pages.add(f"/shop/{name}-{site.key}", shop_page(api, site.key, f"<style>{css}</style>"))
        answer = shopper.visit_and_leave(url)
        code = code or answer["offer"]["code"]
        assert answer["offer"]["code"] == code  # the same visitor is given the same code back
        shopper.page.locator("[data-offboard]").wait_for(state="attached")
        shopper.page.evaluate(SNIPPET_HAS_LOOKED)
        shopper.page.clock.run_for(1500)  # 1.5 s of the snippet's visibility checks, every one of them run
        all_requests_seen(shopper.page, api)
        assert shopper.posted("events", event="impression") == [], name
        assert site.impressions() == 0, name
        assert not (shopper.dialog_state() or {}).get("focusInDialog"), name  # focus stays on the page
        # Given up after a few seconds (3 s): no invisible overlay left over the page to catch clicks and keys.
        shopper.page.clock.fast_forward(2000)
        shopper.page.locator("[data-offboard]").wait_for(state="detached", timeout=5_000)
        shopper.page.keyboard.press("Escape")
        all_requests_seen(shopper.page, api)
        assert shopper.posted("events", event="dismiss") == [], name
        assert shopper.page.evaluate("document.activeElement.id") == "search", name

    url = shop_pages.add(f"/shop/busy-{site.key}", shop_page(api, site.key, f"<style>{BUSY_THEME}</style>"))
    shopper.page.goto(url)
    before = shopper.page.evaluate(
        "() => [document.documentElement.scrollHeight, document.getElementById('marker').getBoundingClientRect().top]"
    )
    shopper.calls.clear()
    assert shopper.visit_and_leave(url)["offer"]["code"] == code
    shopper.page.get_by_role("dialog").wait_for(timeout=10_000)
    shopper.wait_until(lambda: site.impressions() == 1)
    state = shopper.dialog_state()
    assert state["backdropRect"] == [0, 0, 1200, 800], state  # the theme's transform did not trap the overlay
    after = shopper.page.evaluate(
        "() => [document.documentElement.scrollHeight, document.getElementById('marker').getBoundingClientRect().top]"
    )
    assert after == before  # no layout shift on the host page
    shopper.page.clock.run_for(1000)  # a second of the snippet's timers: counted once, not once per check
    all_requests_seen(shopper.page, api)
    assert site.impressions() == 1 and len(shopper.posted("events", event="impression")) == 1


@pytest.mark.parametrize("how", ["esc", "close", "never"])
def test_a_dismissal_is_reported_once_and_focus_goes_back(local_stack, shop_pages, site, shopper, how):
    api = local_stack.base_url
    url = shop_pages.add(f"/shop/dismiss-{how}-{site.key}", shop_page(api, site.key))
    answer = shopper.visit_and_leave(url)
    dialog = shopper.page.get_by_role("dialog")
    dialog.wait_for(timeout=10_000)
    shopper.wait_until(lambda: shopper.posted("events", event="impression"))
    assert shopper.page.get_by_role("dialog", name="Wait, 10% off").get_attribute("aria-modal") == "true"
    for key in ["Tab"] * 6 + ["Shift+Tab"] * 6:  # focus stays inside the dialog, both ways round
        shopper.page.keyboard.press(key)
        assert shopper.dialog_state()["focusInDialog"], key

    if how == "esc":
        shopper.page.keyboard.press("Escape")
    elif how == "close":
        dialog.get_by_role("button", name="Close").click()
    else:
        dialog.get_by_role("button", name="Don’t show this again").click()
    dialog.wait_for(state="detached")
    shopper.wait_until(lambda: shopper.posted("events", event="dismiss"))
    all_requests_seen(shopper.page, api)

    visitor_id = shopper.page.evaluate("localStorage.getItem('offboard:vid')")
    assert shopper.posted("events", event="dismiss") == [
        {
            "site_key": site.key,
            "visitor_id": visitor_id,
            "campaign_id": answer["campaign_id"],
            "variant_id": answer["variant_id"],
            "code": answer["offer"]["code"],
            "event": "dismiss",
            "how": how,
        }
    ]
    assert shopper.page.evaluate("document.activeElement.id") == "search"
    dismissed = shopper.page.evaluate(f"localStorage.getItem('offboard:dismissed:{site.key}')")
    assert (dismissed is not None) == (how == "never")  # the local "don't show again" is kept
