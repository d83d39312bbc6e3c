"""Issue 17 item 10 and issue 18's accessibility edge: every person-facing page, and the exit-intent
dialog on a shop page, has no axe-core violations in Chromium, in English and Thai, at 1280 px and
on a 390 px touch phone. One context per view (locale x width), reused for every page of it; the
pages' states are made once per module through the API, so the browser only reads (GET)."""

import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from chalicelib.cancel import contracts
from chalicelib.domain import cancel as rules
from chalicelib.domain.cancel import Reason
from tests.browser.axe import VIEWS, new_view, preload
from tests.browser.touch import read_down_then_flick_up

pytestmark = [pytest.mark.browser, pytest.mark.server]
VIEW_IDS = [f"{locale}-{width}" for locale, width in VIEWS]
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


@pytest.fixture(scope="module")
def views(browser):
    opened = {view: new_view(browser, *view) for view in VIEWS}
    for context, _ in opened.values():
        preload(context)
    yield {view: page for view, (_, page) in opened.items()}
    for context, _ in opened.values():
        context.close()


def post(url: str, body: str) -> str:
    """A choice made through the API (not the browser): where the page sends the person next."""
    response = requests.post(url, data=body, headers=FORM, allow_redirects=False, timeout=30)
    assert response.status_code == 303, (response.status_code, response.text[:300])
    return response.headers["Location"]


def new_member(stack, email: str, list_id: str = "axe-list") -> str:
    stack.admin("POST", f"/v1/lists/{list_id}/subscribers", {"email": email}).raise_for_status()
    return stack.link(email, list_id)


def report_links(stack) -> dict[str, str]:
    """The signed report pages (the sunset report shows the session's run: fixture `sunset_run`)."""
    origin = stack.base_url
    site = {"site_key": "axe-reports", "name": "Axe reports", "allowed_origins": [origin]}
    assert stack.admin("POST", "/v1/sites", site).status_code in (201, 409)
    campaign = {"offer": {"kind": "percent", "value": 10}, "budget": {"total_codes": 100}, "holdout": 0.3}
    assert stack.admin("PUT", "/v1/sites/axe-reports/campaigns/spring", campaign).ok
    headers = {"Content-Type": "text/plain", "Origin": origin, "User-Agent": CHROME}
    for i in range(6):
        visit = {"site_key": "axe-reports", "visitor_id": f"axe{i}", "page_url": f"{origin}/cart"}
        requests.post(f"{origin}/offers/decide", data=json.dumps(visit), headers=headers, timeout=30).raise_for_status()
    # Signed in-process as `report-link` signs them (the stack shares this process's keys): no CLI start-up.
    from chalicelib.core.http import sign_page_link
    from chalicelib.core.settings import get_settings

    base = get_settings().public_base_url
    links = {
        name: stack.base_url + sign_page_link(path, query, 30).removeprefix(base)
        for name, path, query in (
            ("report: leaving", "/reports/leaving", {"list_id": "axe-list"}),
            ("report: sunset", "/reports/sunset", {}),
            ("report: campaign", "/reports/sites/axe-reports/campaigns/spring", {}),
        )
    }
    links["report: refused"] = links["report: sunset"].replace("expires=", "expires=1")
    return links


@pytest.fixture(scope="module")
def person_pages(local_stack, sunset_run):
    """Every GET-able person-facing page, by name, in the state it is about."""
    stack = local_stack
    branding = {"sender_name": "Axe Co", "accent_color": "#1f5fbf"}
    assert stack.admin(
        "POST", "/v1/lists", {"list_id": "axe-list", "name": "Axe Weekly", "branding": branding}
    ).status_code in (
        201,
        409,
    )
    frequencies = {"frequencies": [{"id": "monthly", "label": "Once a month", "labels": {"th": "เดือนละครั้ง"}}]}
    assert stack.admin("PUT", "/v1/lists/axe-list/frequencies", frequencies).ok
    pages = {}
    pages["landing"] = new_member(stack, "axe-landing@example.com")

    left = new_member(stack, "axe-left@example.com")
    survey = post(left, "choice=list")
    pages["landing: unsubscribed"] = left
    pages["survey"] = survey
    event = survey.split("event=")[1]
    pages["done: with undo"] = post(left + "/survey", f"event={event}&reason=other&comment=ok")
    pages["done: resubscribed"] = post(left + "/resubscribe", "")

    paused = new_member(stack, "axe-paused@example.com")
    pages["survey: pause"] = post(paused, "choice=pause30")
    pages["landing: paused"] = paused

    less = new_member(stack, "axe-less@example.com")
    pages["done: less often"] = post(less, "choice=frequency:monthly")
    pages["landing: less often"] = less

    everything = new_member(stack, "axe-all@example.com")
    survey_all = post(everything, "choice=all")
    pages["done: stopped everything"] = survey_all.replace("/survey?", "/done?")
    pages["done: undone"] = post(everything + "/undo", f"event={survey_all.split('event=')[1]}")

    stopped = new_member(stack, "axe-stopped@example.com")
    post(stopped, "choice=all")
    pages["landing: stopped everything"] = stopped

    token = urlsplit(pages["landing"]).path.rsplit("/", 1)[1]
    pages["error: broken link"] = f"{stack.base_url}/u/{token[:-10]}"
    pages["error: not found"] = f"{stack.base_url}/u/{token}/done?event=EVENT%23nope"
    pages["link request form"] = f"{stack.base_url}/unsubscribe/request"
    pages["keep (sunset email)"] = pages["landing"] + "/keep"
    pages.update(report_links(stack))
    return pages


@pytest.mark.parametrize("view", VIEWS, ids=VIEW_IDS)
def test_every_person_facing_page_has_no_axe_violations(person_pages, views, axe, view):
    page, found = views[view], []
    for name, url in person_pages.items():
        response = page.goto(url)
        assert response is not None and response.status < 500, (name, response and response.status)
        found += axe.check(page, name, *view)
    assert found == []


@pytest.mark.parametrize("view", VIEWS, ids=VIEW_IDS)
def test_the_link_request_answer_has_no_axe_violations(local_stack, views, axe, view):
    page = views[view]
    page.goto(f"{local_stack.base_url}/unsubscribe/request")
    page.locator("input[type=email]").fill(f"axe-request-{view[0]}-{view[1]}@example.com")
    page.locator("form button[type=submit]").click()
    page.get_by_role("status").wait_for()
    assert axe.check(page, "link request sent", *view) == []


def cancel_body(subscription_id: str, locale: str) -> dict:
    return {
        "business": "axe-shop",
        "customer_id": f"cus_{subscription_id}",
        "subscription_id": subscription_id,
        "plan": "Pro monthly",
        "price": 1999,
        "currency": "USD",
        "tenure_months": 4,
        "locale": locale,
        "return_url": "https://shop.example/account",
        "effective_date": (date.today() + timedelta(days=14)).isoformat(),
    }


def shown_an_offer(prefix: str, locale: str, reason: Reason) -> str:
    for n in range(500):
        request = contracts.parse_session_request(cancel_body(f"{prefix}{n}", locale), date.today())
        session = rules.open_session(request, rules.DEFAULT_FLOW, "x", datetime.now(UTC))
        if rules.choose_offer(session, reason)[1] is not None:
            return f"{prefix}{n}"
    raise AssertionError("every subscription is in the holdout")


def open_cancel_page(stack, page, subscription_id: str, locale: str):
    response = stack.admin("POST", "/v1/cancel-sessions", cancel_body(subscription_id, locale))
    response.raise_for_status()
    page.goto(stack.base_url + urlsplit(response.json()["url"]).path)


@pytest.mark.parametrize("view", VIEWS, ids=VIEW_IDS)
def test_the_cancellation_flow_pages_have_no_axe_violations(local_stack, views, axe, view):
    locale, width = view
    page, found = views[view], []
    declined = shown_an_offer(f"axe-{locale}-{width}-no-", locale, Reason.TOO_EXPENSIVE)
    open_cancel_page(local_stack, page, declined, locale)
    found += axe.check(page, "cancel: reasons", *view)
    page.locator("input[type=radio][value=too_expensive]").check()
    page.locator("button[name=action][value=continue]").click()
    page.locator("[data-role=offer]").wait_for()
    found += axe.check(page, "cancel: offer", *view)
    page.locator("button[data-role=cancel]").click()
    page.get_by_role("status").wait_for()
    found += axe.check(page, "cancel: cancelled", *view)

    accepted = shown_an_offer(f"axe-{locale}-{width}-yes-", locale, Reason.UNUSED)
    open_cancel_page(local_stack, page, accepted, locale)
    page.locator("input[type=radio][value=unused]").check()
    page.locator("button[name=action][value=continue]").click()
    page.locator("button[data-role=accept]").click()
    page.get_by_role("status").wait_for()
    found += axe.check(page, "cancel: saved", *view)

    page.goto(f"{local_stack.base_url}/cancel/not-a-session-link")
    found += axe.check(page, "cancel: refused link", *view)
    assert found == []


def shop_page(api: str, site_key: str, lang: str) -> str:
    """A long shop page in the view's language (so a phone can scroll it), carrying the snippet."""
    products = "\n".join(f"<li>Product {i}</li>" for i in range(120))
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop</title></head>
<body><main><h1>Shop</h1><label>Search <input id="search" type="search"></label><ul>{products}</ul></main>
<script src="{api}/offers/snippet.js" data-site-key="{site_key}" data-cart-value="80" data-currency="USD"
        data-min-seconds="1" async></script>
</body></html>"""


# The snippet has taken the dialog as seen (its backdrop no longer waiting) and moved focus into it.
SEEN_AND_FOCUSED = """() => {
  const root = document.querySelector("[data-offboard]").shadowRoot;
  return !root.querySelector(".backdrop.waiting") && root.activeElement !== null;
}"""


def trigger_exit_intent(page, width: str) -> None:
    """Desktop: the pointer leaves through the top. Phone: a touch scroll down, then a fast flick up.
    The page's clock is Playwright's (`context.clock.install()` before it loaded)."""
    page.clock.fast_forward(1100)  # the snippet's minimum time on the page
    if width == "desktop":
        page.mouse.move(600, 400)
        page.mouse.move(600, 10, steps=5)
        page.mouse.move(600, -20, steps=2)
        return
    read_down_then_flick_up(page)


@pytest.fixture(scope="module")
def dialog_site(local_stack, shop_pages):
    stack = local_stack
    site = {"site_key": "axe-dialog", "name": "Axe dialog", "allowed_origins": [shop_pages.origin]}
    assert stack.admin("POST", "/v1/sites", site).status_code in (201, 409)
    campaign = {
        "offer": {"kind": "percent", "value": 10, "expires_minutes": 15},
        "variants": [
            {
                "variant_id": "a",
                "texts": {"headline": "Wait, 10% off", "body": "Finish your order now.", "cta": "Copy code"},
            }
        ],
        "budget": {"total_codes": 1000},
    }
    assert stack.admin("PUT", "/v1/sites/axe-dialog/campaigns/exit", campaign).ok
    return "axe-dialog"


@pytest.mark.parametrize("view", VIEWS, ids=VIEW_IDS)
def test_the_exit_intent_dialog_has_no_axe_violations(local_stack, shop_pages, dialog_site, browser, axe, view):
    locale, width = view
    url = shop_pages.add(f"/shop/axe-{locale}-{width}", shop_page(local_stack.base_url, dialog_site, locale))
    context, page = new_view(browser, locale, width)  # a context of its own: a new visitor
    preload(context)
    context.clock.install()
    try:
        page.goto(url)
        with page.expect_response(lambda r: r.url.endswith("/offers/decide")) as decided:
            trigger_exit_intent(page, width)
        assert decided.value.json()["show"], decided.value.json()
        dialog = page.get_by_role("dialog")
        dialog.wait_for(timeout=10_000)
        page.wait_for_function(SEEN_AND_FOCUSED)
        found = axe.check(page, "exit-intent dialog", *view)
        close = {"en": "Close", "th": "ปิด"}[locale]  # the dialog's own words follow the page's language
        assert dialog.get_by_role("button", name=close).count() == 1 and dialog.get_attribute("lang") == locale
        dialog.locator("button.email-toggle").click()
        found += axe.check(page, "exit-intent dialog: email form", *view)
    finally:
        context.close()
    assert found == []
