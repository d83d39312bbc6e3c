"""The cancellation flow on a 390 px phone in Chromium: the law's edges as tests. From landing to
cancelled in at most 2 clicks whatever is shown, nothing pre-selected, never more than one offer,
the cancel control visible without scrolling, the offer's two answers of equal weight."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from chalicelib.cancel import contracts
from chalicelib.domain import cancel as rules
from chalicelib.domain.cancel import Reason

pytestmark = [pytest.mark.browser, pytest.mark.server]


def body(subscription_id: str, locale: str = "en") -> dict:
    return {
        "business": "browser-shop",
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


def subscription_shown_an_offer(reason: Reason) -> str:
    for n in range(500):
        request = contracts.parse_session_request(body(f"bsub{n}"), date.today())
        session = rules.open_session(request, rules.DEFAULT_FLOW, "x", datetime.now(UTC))
        if rules.choose_offer(session, reason)[1] is not None:
            return f"bsub{n}"
    raise AssertionError("every subscription is in the holdout")


def open_page(local_stack, page, subscription_id: str, locale: str = "en"):
    response = local_stack.admin("POST", "/v1/cancel-sessions", body(subscription_id, locale))
    response.raise_for_status()
    page.goto(local_stack.base_url + urlsplit(response.json()["url"]).path)


def in_viewport(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["width"] > 0


def test_one_click_from_landing_to_cancelled(local_stack, page):
    open_page(local_stack, page, "bsub-one-click")
    radios = page.get_by_role("radio")
    assert radios.count() == 8 and not any(radios.nth(i).is_checked() for i in range(8))
    cancel = page.get_by_role("button", name="Cancel subscription")
    assert in_viewport(page, cancel)
    cancel.click()
    assert "Your subscription is cancelled" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Keep my subscription").is_visible()


def test_two_clicks_through_the_one_offer_and_equal_weight_answers(local_stack, page):
    open_page(local_stack, page, subscription_shown_an_offer(Reason.TOO_EXPENSIVE))
    page.get_by_label("It is too expensive").check()
    page.get_by_role("button", name="Continue").click()
    accept = page.get_by_role("button", name="Accept this offer")
    decline = page.get_by_role("button", name="No thanks, cancel")
    assert accept.count() == 1 and page.locator("[data-role=offer]").count() == 1
    assert in_viewport(page, accept) and in_viewport(page, decline)
    a, d = accept.bounding_box(), decline.bounding_box()
    assert abs(a["width"] - d["width"]) < 2 and abs(a["height"] - d["height"]) < 2
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color, getComputedStyle(e).fontWeight]"
    assert accept.evaluate(style) == decline.evaluate(style)
    decline.click()
    assert "Your subscription is cancelled" in page.get_by_role("status").inner_text()


def test_accepting_says_exactly_what_was_accepted(local_stack, page):
    open_page(local_stack, page, subscription_shown_an_offer(Reason.UNUSED))
    page.get_by_label("I don't use it enough").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Accept this offer").click()
    assert (
        page.get_by_role("status")
        .inner_text()
        .startswith("Done: Pause your subscription for 2 months, with no charge.")
    )


def test_thai_page_keeps_the_cancel_button_in_view(local_stack, page):
    open_page(local_stack, page, "bsub-thai", locale="th")
    cancel = page.get_by_role("button", name="ยกเลิกการสมัครสมาชิก")
    assert in_viewport(page, cancel)
    cancel.click()
    assert "ยกเลิกการสมัครสมาชิกแล้ว" in page.get_by_role("status").inner_text()
