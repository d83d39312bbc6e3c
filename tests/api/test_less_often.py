"""Less often instead of leaving, and the operators' leaving reports, over HTTP
(`chalice.test.Client`): the list's frequencies, the landing page's choice, the confirmation
with its undo, the send-time answer, and the JSON and HTML reports behind the admin key."""

import re

import pytest

from tests.api.conftest import subscriber_of
from tests.api.test_pages import FORM, choose, follow, hidden_event

WEEKLY = {"id": "weekly", "label": "Weekly digest", "labels": {"th": "สรุปรายสัปดาห์"}}
MONTHLY = {"id": "monthly", "label": "Once a month"}


@pytest.fixture
def offered(api):
    response = api.admin("PUT", "/v1/lists/newsletter/frequencies", {"frequencies": [WEEKLY, MONTHLY]})
    assert response.status_code == 200, response.body
    assert response.json_body == {"list_id": "newsletter", "frequencies": [WEEKLY, MONTHLY]}
    return api


@pytest.mark.parametrize(
    "body",
    [
        {"frequencies": [{"id": "Weekly!", "label": "x"}]},
        {"frequencies": [{"id": f"f{i}", "label": "x"} for i in range(5)]},
        {"frequencies": [WEEKLY, WEEKLY]},
        {"frequencies": "weekly"},
        {"frequencies": [WEEKLY], "extra": True},
        {},
    ],
)
def test_bad_frequencies_are_a_400_naming_the_problem(api, body):
    response = api.admin("PUT", "/v1/lists/newsletter/frequencies", body)
    assert response.status_code == 400 and response.json_body["error"] == "bad_frequencies"


def test_frequencies_need_the_admin_key_and_an_existing_list(api):
    body = {"frequencies": [WEEKLY]}
    no_key = api.http.put(
        "/v1/lists/newsletter/frequencies", headers={"Content-Type": "application/json"}, body=b'{"frequencies": []}'
    )
    assert no_key.status_code == 401
    assert api.admin("PUT", "/v1/lists/nope/frequencies", body).status_code == 404


def test_without_frequencies_the_landing_page_offers_none(api):
    html = api.http.get(api.link("alice@example.com")).body.decode()
    assert "frequency:" not in html


def test_the_landing_page_offers_frequencies_after_every_way_to_leave_with_nothing_preselected(offered):
    html = offered.http.get(offered.link("alice@example.com")).body.decode()
    positions = [html.index(f'value="{choice}"') for choice in ("list", "all", "pause30", "pause90")]
    weekly, monthly = html.index('value="frequency:weekly"'), html.index('value="frequency:monthly"')
    assert positions == sorted(positions) and max(positions) < weekly < monthly
    assert "Switch to: Weekly digest" in html and "Or stay, and get The Weekly less often:" in html
    assert "checked" not in html and "selected" not in html and "<script" not in html
    thai = offered.http.get(offered.link("alice@example.com"), headers={"Accept-Language": "th"}).body.decode()
    assert "เปลี่ยนเป็น: สรุปรายสัปดาห์" in thai and "เปลี่ยนเป็น: Once a month" in thai


def test_choosing_less_often_confirms_with_an_undo_and_the_sender_is_told(offered):
    path = offered.link("alice@example.com")
    done = choose(offered, path, "frequency:weekly")
    assert "/done?event=" in done  # no exit survey: nobody left
    page = offered.http.get(done).body
    assert b"You will get The Weekly as Weekly digest from now on." in page
    assert b"Undo: go back to how often I got it before" in page
    answer = offered.allowed("alice@example.com")
    assert (answer["allowed"], answer["frequency"]) == (True, "weekly")
    assert offered.allowed("alice@example.com", "promo")["frequency"] is None
    assert offered.allowed("bob@example.com")["frequency"] is None
    trail = [e for e in offered.events(subscriber_of(path)) if e["action"] == "frequency"]
    assert len(trail) == 1 and trail[0]["frequency"] == "weekly" and trail[0]["source"] == "page"
    landing = offered.http.get(path).body.decode()
    assert "You get The Weekly as: Weekly digest." in landing


def test_choosing_the_same_frequency_again_records_nothing_and_shows_the_same_confirmation(offered):
    path = offered.link("alice@example.com")
    first = choose(offered, path, "frequency:weekly")
    again = choose(offered, path, "frequency:weekly")
    assert again == first
    assert len([e for e in offered.events(subscriber_of(path)) if e["action"] == "frequency"]) == 1


def test_undo_goes_back_and_a_double_click_shows_the_first_undo(offered):
    path = offered.link("alice@example.com")
    done = choose(offered, path, "frequency:monthly")
    event = hidden_event(offered.http.get(done).body)
    undo = offered.http.post(f"{path}/undo", headers=FORM, body=f"event={event}".encode())
    assert undo.status_code == 303
    page = offered.http.get(follow(undo.headers["Location"])).body
    assert b"You will get every email of The Weekly again, as before." in page and b"Undo" not in page
    assert offered.allowed("alice@example.com")["frequency"] is None
    twice = offered.http.post(f"{path}/undo", headers=FORM, body=f"event={event}".encode())
    assert twice.status_code == 303 and twice.headers["Location"] == undo.headers["Location"]


def test_someone_who_left_cannot_choose_a_frequency_and_is_not_resubscribed(offered):
    path = offered.link("alice@example.com")
    choose(offered, path, "list")
    landing = offered.http.get(path).body.decode()
    assert "frequency:" not in landing  # the page offers it only to someone on the list
    response = offered.http.post(path, headers=FORM, body=b"choice=frequency%3Aweekly")
    assert response.status_code == 409 and b"You are not subscribed to this list" in response.body
    assert offered.allowed("alice@example.com")["reason"] == "unsubscribed"


def test_a_frequency_the_list_does_not_offer_is_a_friendly_400(offered):
    path = offered.link("alice@example.com")
    for body in (b"choice=frequency%3Adaily", b"choice=frequency%3A"):
        response = offered.http.post(path, headers=FORM, body=body)
        assert response.status_code == 400 and b"Please choose one of the options." in response.body
    assert offered.allowed("alice@example.com")["frequency"] is None


def test_the_leaving_report_counts_by_source_pause_return_and_frequency(offered):
    from datetime import UTC, datetime

    month = f"{datetime.now(UTC):%Y-%m}"
    alice, bob = offered.link("alice@example.com"), offered.link("bob@example.com")
    choose(offered, alice, "frequency:weekly")
    survey = choose(offered, bob, "pause30")
    event = re.search(r"event=([^&]+)", survey).group(1)
    offered.http.post(f"{bob}/undo", headers=FORM, body=f"event={event}".encode())
    one_click = offered.http.post(
        bob, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"List-Unsubscribe=One-Click"
    )
    assert one_click.status_code == 200
    choose(offered, offered.link("alice@example.com", "promo"), "all")

    response = offered.admin("GET", "/v1/reports/leaving?list_id=newsletter")
    assert response.status_code == 200
    report = response.json_body
    assert report["to"] == month and len(report["months"]) == 12
    this = report["months"][-1]
    assert this["unsubscribes"] == {"total": 2, "by_source": {"one-click": 1, "page": 1}, "stop_everything": 1}
    assert this["pauses"] == {"started": 1, "resumed": 1}
    assert this["frequencies"] == {"chosen": {"weekly": 1}, "undone": {}}
    assert all(m["unsubscribes"]["total"] == 0 for m in report["months"][:-1])
    promo = offered.admin("GET", f"/v1/reports/leaving?list_id=promo&from={month}&to={month}").json_body
    assert [m["month"] for m in promo["months"]] == [month]
    assert promo["months"][0]["unsubscribes"]["by_source"] == {"page": 1}


@pytest.mark.parametrize(
    "query",
    [
        "list_id=bad%20id",
        "list_id=newsletter&from=2026-13",
        "list_id=newsletter&from=2026-11&to=2026-01",
        "list_id=newsletter&from=2000-01&to=2026-01",
        "list_id=newsletter&to=26-01",
        "",
    ],
)
def test_a_bad_report_query_is_a_400(api, query):
    response = api.admin("GET", f"/v1/reports/leaving?{query}")
    assert response.status_code == 400 and response.json_body["error"] in ("bad_list", "bad_month")


def test_the_leaving_report_page_is_html_with_svg_charts_and_needs_the_key(offered):
    choose(offered, offered.link("alice@example.com"), "list")
    choose(offered, offered.link("bob@example.com"), "frequency:monthly")
    no_key = offered.http.get("/v1/reports/leaving?list_id=newsletter&format=html")
    assert no_key.status_code == 401
    for headers, path in (
        ({"Accept": "text/html"}, "/v1/reports/leaving?list_id=newsletter"),
        ({}, "/v1/reports/leaving?list_id=newsletter&format=html"),
    ):
        page = offered.admin("GET", path, headers=headers)
        html = page.body.decode()
        assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        assert "<script" not in html and html.count('role="img"') == 4
        assert "Unsubscribes by source" in html and "monthly" in html and 'rect class="bar s0"' in html


def test_the_sunset_report_reads_each_runs_funnel(api):
    from chalicelib.sunset import job

    job.run_locally(dry_run=True, send_reminder=lambda record: None)
    report = api.admin("GET", "/v1/reports/sunset").json_body
    assert report["runs"] and set(report["runs"][0]["funnel"]) == {"due", "emailed", "kept", "unsubscribed"}
    assert report["runs"][0]["dry_run"] is True and report["runs"][0]["braked_lists"] == []
    assert set(report["runs"][0]["not_emailed"]) == {"email_failed", "rescheduled"}
    page = api.admin("GET", "/v1/reports/sunset?format=html")
    assert page.status_code == 200 and b"Sunset runs" in page.body and b"<script" not in page.body
    assert api.http.get("/v1/reports/sunset").status_code == 401


def test_when_storage_fails_the_page_asks_to_try_again_and_nothing_is_queued(offered, monkeypatch):
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.unsubscribe import deferred, flow

    def failing(*args, **kwargs):
        raise PynamoDBException("storage unavailable")

    queued = []
    monkeypatch.setattr(flow.subscribers, "set_frequency", failing)
    monkeypatch.setattr(deferred, "defer", lambda *a, **k: queued.append(a) or True)
    path = offered.link("alice@example.com")
    response = offered.http.post(path, headers=FORM, body=b"choice=frequency%3Aweekly")
    assert response.status_code == 503 and response.headers.get("Retry-After")
    assert b"We could not save your choice just now" in response.body and not queued


def test_the_same_frequency_after_a_pause_shows_the_page_saying_which_frequency_is_held(offered):
    path = offered.link("alice@example.com")
    choose(offered, path, "frequency:weekly")
    choose(offered, path, "pause30")
    again = choose(offered, path, "frequency:weekly")
    assert again == path  # not the pause's confirmation
    assert "You get The Weekly as: Weekly digest." in offered.http.get(again).body.decode()
