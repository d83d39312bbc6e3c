"""The campaign report as operators see it in a browser: a server-rendered SVG funnel per arm,
no JavaScript, behind the admin authentication; a screenshot is kept in the test artefacts."""

import json
from pathlib import Path

import pytest
import requests

pytestmark = [pytest.mark.browser, pytest.mark.server]
ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


def test_the_report_page_shows_each_arms_funnel_as_a_chart(local_stack, page):
    origin = local_stack.base_url
    assert local_stack.admin(
        "POST", "/v1/sites", {"site_key": "report-shop", "name": "R", "allowed_origins": [origin]}
    ).ok
    campaign = {
        "offer": {"kind": "percent", "value": 10},
        "budget": {"total_codes": 100},
        "holdout": 0.3,
        "variants": [{"variant_id": "a"}, {"variant_id": "b", "offer": {"kind": "free_shipping"}}],
    }
    assert local_stack.admin("PUT", "/v1/sites/report-shop/campaigns/spring", campaign).ok
    headers = {"Content-Type": "text/plain", "Origin": origin, "User-Agent": CHROME}
    for i in range(24):
        visit = {"site_key": "report-shop", "visitor_id": f"rv{i}", "page_url": f"{origin}/cart"}
        answer = requests.post(f"{origin}/offers/decide", data=json.dumps(visit), headers=headers, timeout=30).json()
        if answer.get("offer"):
            event = {
                "site_key": "report-shop",
                "code": answer["offer"]["code"],
                "campaign_id": "spring",
                "variant_id": answer["variant_id"],
                "event": "impression",
            }
            requests.post(f"{origin}/offers/events", data=json.dumps(event), headers=headers, timeout=30)

    url = f"{origin}/v1/sites/report-shop/campaigns/spring/report"
    assert requests.get(url, headers={"Accept": "text/html"}, timeout=30).status_code == 401  # no key, no report
    page.set_extra_http_headers({"X-Api-Key": "dev-admin-key"})
    response = page.goto(url)
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    assert page.locator("script").count() == 0
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 2  # the variants and the holdout
    bars = page.locator("svg rect.bar")
    widths = [float(bars.nth(i).get_attribute("width")) for i in range(bars.count())]
    assert max(widths) == 400 and all(0 <= w <= 400 for w in widths)
    assert page.get_by_text("Holdout (shown nothing)").is_visible()
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "offer-report.png"), full_page=True)
    assert (ARTEFACTS / "offer-report.png").stat().st_size > 5_000
