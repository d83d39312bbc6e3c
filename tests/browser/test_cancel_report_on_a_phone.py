"""The cancellation report opened as an operator opens it: a signed link from the CLI
(`report-link cancel BUSINESS`), no key, on a 390 px phone. The charts are drawn to fit: whole on
screen and not scaled down, so their 12 px text renders at 12 px; the page never scrolls sideways."""

import json
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from tests.browser.test_report_pages_on_a_phone import PHONE, RENDERED_SIZES

pytestmark = [pytest.mark.browser, pytest.mark.server]


def cancel_some_sessions(stack) -> None:
    for n, reason in enumerate(("too_expensive", "unused", "customer_service", "unused")):
        body = {
            "business": "phone-biz",
            "customer_id": f"cus_{n}",
            "subscription_id": f"phone_sub_{n}",
            "plan": "Pro",
            "price": 1999,
            "currency": "USD",
            "return_url": "https://phone.example/account",
            "effective_date": (date.today() + timedelta(days=9)).isoformat(),
        }
        opened = stack.admin("POST", "/v1/cancel-sessions", body)
        opened.raise_for_status()
        path = urlsplit(opened.json()["url"]).path
        form = {"action": "cancel", "reason": reason}
        requests.post(stack.base_url + path, data=form, timeout=30).raise_for_status()


def test_the_cancel_report_opens_on_a_phone_with_charts_at_their_drawn_size(local_stack, page):
    cancel_some_sessions(local_stack)
    link = json.loads(local_stack.cli("report-link", "cancel", "phone-biz", "--minutes", "5"))["url"]
    page.set_viewport_size(PHONE)
    response = page.goto(link)
    assert response.status == 200
    assert page.get_by_role("heading", name="Cancellations: phone-biz").is_visible()
    charts = page.locator("svg[role=img]")
    assert charts.count() == 2
    for i in range(2):
        assert charts.nth(i).evaluate("svg => svg.getScreenCTM().a") == 1  # not shrunk to fit
        box = charts.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # nor wider than the phone
        names = charts.nth(i).get_attribute("aria-labelledby").split()
        assert all(page.locator(f"#{name}").count() == 1 for name in names)
    sizes = page.evaluate(RENDERED_SIZES)
    assert sizes and min(sizes) >= 12, sizes
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.get_by_text("customer_service").first.is_visible()
