"""Report pages opened the way an operator opens them in AWS: a signed link from the CLI
(`report-link`), in a browser that sends no key, on a 390 px phone. Chart text stays readable
(rendered at 11 CSS px or more: a chart keeps its drawn size and its card scrolls sideways) and
the page itself never scrolls sideways. A link altered or expired shows the refusal page."""

import json
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests

pytestmark = [pytest.mark.browser, pytest.mark.server]
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
PHONE = {"width": 390, "height": 844}
# Each chart text's rendered size: its computed font size times the SVG's scale on screen.
RENDERED_SIZES = """() => [...document.querySelectorAll('svg[role=img] text')].map(
    t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""


def a_campaign_with_arms(stack) -> None:
    origin = stack.base_url
    assert stack.admin("POST", "/v1/sites", {"site_key": "phone-shop", "name": "P", "allowed_origins": [origin]}).ok
    campaign = {
        "offer": {"kind": "percent", "value": 10},
        "budget": {"total_codes": 100},
        "holdout": 0.3,
        "variants": [{"variant_id": "a"}, {"variant_id": "b", "offer": {"kind": "free_shipping"}}],
    }
    assert stack.admin("PUT", "/v1/sites/phone-shop/campaigns/spring", campaign).ok
    headers = {"Content-Type": "text/plain", "Origin": origin, "User-Agent": CHROME}
    for i in range(12):
        visit = {"site_key": "phone-shop", "visitor_id": f"pv{i}", "page_url": f"{origin}/cart"}
        requests.post(f"{origin}/offers/decide", data=json.dumps(visit), headers=headers, timeout=30).raise_for_status()


@pytest.mark.parametrize(
    ("report", "names", "heading"),
    [
        ("leaving", ("--list", "newsletter"), "Why people leave newsletter"),
        ("sunset", (), "Sunset runs"),
        ("campaign", ("phone-shop", "spring"), None),
    ],
)
def test_a_signed_link_opens_the_report_on_a_phone_with_readable_chart_text(
    local_stack, page, request, report, names, heading
):
    if report == "sunset":
        request.getfixturevalue("sunset_run")  # a run to show (one per worker session)
    if report == "campaign":
        a_campaign_with_arms(local_stack)
    link = json.loads(local_stack.cli("report-link", report, *names, "--minutes", "5"))["url"]
    assert link.startswith(local_stack.base_url + "/reports/")

    page.set_viewport_size(PHONE)
    response = page.goto(link)  # no X-Api-Key, no IAM: the link alone
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    if heading:
        assert page.get_by_role("heading", name=heading).is_visible()
    sizes = page.evaluate(RENDERED_SIZES)
    assert sizes and min(sizes) >= 11, sizes
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    url = urlsplit(link)
    altered = dict(parse_qsl(url.query), expires=str(int(dict(parse_qsl(url.query))["expires"]) + 60))
    refused = page.goto(f"{local_stack.base_url}{url.path}?{urlencode(altered)}")
    assert refused.status == 403 and page.get_by_role("heading", name="This report did not open").is_visible()
    assert page.locator("svg[role=img]").count() == 0
