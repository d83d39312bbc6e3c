"""Less often and why people leave, in Chromium against `chalice local`: a person switches to a
weekly digest on the landing page and undoes it; operators read the leaving report and the
sunset funnel as server-rendered SVG pages (no JavaScript) behind the admin key. Screenshots are
kept in the test artefacts."""

from pathlib import Path
from urllib.parse import unquote

import pytest
import requests

pytestmark = [pytest.mark.browser, pytest.mark.server]
ARTEFACTS = Path(__file__).resolve().parents[1] / "artefacts"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LIST = "leaving-news"


def _bar_geometry(page, selector: str) -> list[tuple[float, float, float, float]]:
    bars = page.locator(selector)
    return [
        tuple(float(bars.nth(i).get_attribute(a)) for a in ("x", "y", "width", "height")) for i in range(bars.count())
    ]


def test_a_person_chooses_less_often_and_undoes_it(local_stack, page):
    assert local_stack.admin("POST", "/v1/lists", {"list_id": "often-news", "name": "Often News"}).status_code == 201
    assert local_stack.admin("POST", "/v1/lists/often-news/subscribers", {"email": "pat@example.com"}).ok
    frequencies = {"frequencies": [{"id": "weekly", "label": "Weekly digest"}, {"id": "monthly", "label": "Monthly"}]}
    assert local_stack.admin("PUT", "/v1/lists/often-news/frequencies", frequencies).ok

    page.goto(local_stack.link("pat@example.com", "often-news"))
    buttons = page.locator("button[name=choice]")
    values = [buttons.nth(i).get_attribute("value") for i in range(buttons.count())]
    assert values == ["list", "all", "pause30", "pause90", "frequency:weekly", "frequency:monthly"]
    assert page.locator("script").count() == 0
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "less-often-choice.png"), full_page=True)
    page.get_by_role("button", name="Switch to: Weekly digest").click()
    page.get_by_text("You will get Often News as Weekly digest from now on.").wait_for(timeout=15_000)
    assert local_stack.allowed("pat@example.com", "often-news")["frequency"] == "weekly"
    page.get_by_role("button", name="Undo: go back to how often I got it before").click()
    # is_visible() does not wait for the navigation the click starts: wait for the new page.
    page.get_by_text("You will get every email of Often News again, as before.").wait_for(timeout=15_000)
    assert local_stack.allowed("pat@example.com", "often-news")["frequency"] is None


def test_the_leaving_report_page_charts_sources_pauses_and_frequencies(local_stack, page):
    origin = local_stack.base_url
    assert local_stack.admin("POST", "/v1/lists", {"list_id": LIST, "name": "Leaving News"}).status_code == 201
    frequencies = {"frequencies": [{"id": "weekly", "label": "Weekly digest"}, {"id": "monthly", "label": "Monthly"}]}
    assert local_stack.admin("PUT", f"/v1/lists/{LIST}/frequencies", frequencies).ok
    people = [f"leaver{i}@example.com" for i in range(9)]
    links = {}
    for email in people:
        assert local_stack.admin("POST", f"/v1/lists/{LIST}/subscribers", {"email": email}).ok
        links[email] = local_stack.link(email, LIST)
    for email in people[:3]:  # one-click from the mailbox provider
        answer = requests.post(links[email], data="List-Unsubscribe=One-Click", headers=FORM, timeout=30)
        assert answer.status_code == 200
    choices = {people[3]: "list", people[4]: "pause30", people[5]: "frequency:weekly", people[6]: "frequency:monthly"}
    choices[people[7]] = "frequency:weekly"
    for email, choice in choices.items():
        answer = requests.post(links[email], data={"choice": choice}, timeout=30, allow_redirects=False)
        assert answer.status_code == 303, answer.text
    survey = requests.post(links[people[8]], data={"choice": "pause90"}, timeout=30, allow_redirects=False)
    event = unquote(survey.headers["Location"].split("event=")[1].split("&")[0])
    assert requests.post(f"{links[people[8]]}/undo", data={"event": event}, timeout=30, allow_redirects=False).ok

    report = local_stack.admin("GET", f"/v1/reports/leaving?list_id={LIST}").json()
    this = report["months"][-1]
    assert this["unsubscribes"]["by_source"] == {"one-click": 3, "page": 1}
    assert this["pauses"] == {"started": 2, "resumed": 1}
    assert this["frequencies"]["chosen"] == {"weekly": 2, "monthly": 1}

    url = f"{origin}/v1/reports/leaving?list_id={LIST}"
    assert requests.get(url, headers={"Accept": "text/html"}, timeout=30).status_code == 401  # no key, no report
    page.set_viewport_size({"width": 1100, "height": 900})
    page.set_extra_http_headers({"X-Api-Key": "dev-admin-key"})
    response = page.goto(url)
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    assert page.locator("script").count() == 0
    assert page.locator("svg[role=img]").count() == 4
    assert page.get_by_role("heading", name="Unsubscribes by source").is_visible()
    for section in ("unsubscribes", "pauses", "frequencies"):
        bars = _bar_geometry(page, f"#{section} svg[role=img] rect.bar")
        assert bars, section
        assert all(x >= 0 and x + w <= 640 and y >= 0 and y + h <= 220 + 0.5 for x, y, w, h in bars), section
    stacked = _bar_geometry(page, "#unsubscribes svg[role=img] rect.bar")
    assert max(h for *_, h in stacked) > 0 and round(sum(h for *_, h in stacked), 0) == round(220 - 24 - 8, 0)
    ARTEFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "leaving-report.png"), full_page=True)
    assert (ARTEFACTS / "leaving-report.png").stat().st_size > 5_000


def test_the_sunset_report_page_shows_each_runs_funnel(local_stack, sunset_run, page):
    run = sunset_run
    page.set_extra_http_headers({"X-Api-Key": "dev-admin-key"})
    response = page.goto(f"{local_stack.base_url}/v1/reports/sunset?format=html")
    assert response.status == 200 and page.locator("script").count() == 0
    charts = page.locator("svg[role=img]")
    assert charts.count() >= 1
    assert page.get_by_text(f"Run {run['run_id']}").is_visible()
    labels = page.locator("svg[role=img]").first.locator("text")
    texts = [labels.nth(i).text_content() for i in range(labels.count())]
    assert [t for t in texts if t in ("due", "emailed", "kept", "unsubscribed")] == [
        "due",
        "emailed",
        "kept",
        "unsubscribed",
    ]
    widths = _bar_geometry(page, "svg[role=img] rect.bar")
    assert all(0 <= w <= 400 for _, _, w, _ in widths)
    page.screenshot(path=str(ARTEFACTS / "sunset-report.png"), full_page=True)
    assert (ARTEFACTS / "sunset-report.png").stat().st_size > 3_000
