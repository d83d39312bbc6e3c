"""Report pages opened from a signed link (`tools.cli report-link`): in AWS the report routes
sit behind IAM and a browser sends neither a signature nor X-Api-Key. A link opens its one page,
as minted, for minutes; an expired, altered, other-path or missing link gets a page saying so."""

import json
import subprocess
import sys
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from tests.helpers import ROOT

CAMPAIGN = {"offer": {"kind": "free_shipping"}, "budget": {"total_codes": 5}}


def minted(path: str, query: dict | None = None, minutes: int = 10, now: float | None = None) -> str:
    """The link's path and query, as a browser would ask for it."""
    from chalicelib.core.http import sign_page_link

    url = urlsplit(sign_page_link(path, query or {}, minutes, now=now))
    return f"{url.path}?{url.query}"


def changed(link: str, **values) -> str:
    path, _, query = link.partition("?")
    return f"{path}?{urlencode({**dict(parse_qsl(query)), **values})}"


def assert_refused(answer, status: int, says: str) -> None:
    body = answer.body.decode()
    assert answer.status_code == status and answer.headers["Content-Type"].startswith("text/html"), body
    assert "This report did not open" in body and says in body
    assert "Sunset runs" not in body and "Why people leave" not in body


def test_the_right_link_opens_its_page_in_a_browser_without_key_or_iam(api):
    answer = api.http.get(minted("/reports/sunset"))
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    assert b"Sunset runs" in answer.body and answer.headers["Referrer-Policy"] == "no-referrer"
    leaving = api.http.get(minted("/reports/leaving", {"list_id": "newsletter", "from": "2026-01"}))
    assert leaving.status_code == 200 and b'role="img"' in leaving.body


def test_a_campaign_link_opens_that_campaign_only(api):
    assert (
        api.admin(
            "POST", "/v1/sites", {"site_key": "shop", "name": "Shop", "allowed_origins": ["https://shop.example"]}
        ).status_code
        == 201
    )
    for campaign in ("spring", "autumn"):
        assert api.admin("PUT", f"/v1/sites/shop/campaigns/{campaign}", CAMPAIGN).status_code == 200
    link = minted("/reports/sites/shop/campaigns/spring")
    assert api.http.get(link).status_code == 200
    other = link.replace("/campaigns/spring", "/campaigns/autumn")
    assert_refused(api.http.get(other), 403, "not valid for this page")


def test_an_expired_link_is_refused(api):
    assert_refused(api.http.get(minted("/reports/sunset", minutes=5, now=time.time() - 301)), 403, "expired")


def test_a_link_for_another_path_is_refused(api):
    sunset = minted("/reports/sunset")
    assert_refused(api.http.get("/reports/leaving?" + sunset.partition("?")[2]), 403, "not valid for this page")


@pytest.mark.parametrize(
    "tamper",
    [
        {"list_id": "promo"},  # another list's report
        {"to": "2026-12"},  # a parameter added
        {"expires": str(int(time.time()) + 3000)},  # a longer life
        {"sig": "A" * 43},
        {"kid": "nope"},
    ],
    ids=["other-list", "added-parameter", "longer-life", "forged-signature", "unknown-key"],
)
def test_an_altered_link_is_refused(api, tamper):
    link = minted("/reports/leaving", {"list_id": "newsletter"})
    assert_refused(api.http.get(changed(link, **tamper)), 403, "not valid")


def test_a_link_valid_for_longer_than_an_hour_is_refused_even_when_signed(api):
    from chalicelib.core.http import PAGE_LINK_MAX_MINUTES

    later = time.time() + 60 * PAGE_LINK_MAX_MINUTES  # minted "in the future": expires two hours from now
    assert_refused(api.http.get(minted("/reports/sunset", minutes=60, now=later)), 403, "longer than")


def test_without_a_link_the_page_route_opens_for_nobody(api):
    assert_refused(api.http.get("/reports/sunset"), 401, "only with a signed link")
    # The admin key opens the IAM route, not the link route.
    assert_refused(api.admin("GET", "/reports/sunset"), 401, "only with a signed link")
    # A link opens its page route, not the IAM route.
    assert api.http.get("/v1/reports/sunset?" + minted("/reports/sunset").partition("?")[2]).status_code == 401


def test_the_cli_mints_a_link_that_opens_the_page(api):
    """`report-link` as an operator runs it (the stage's settings): the URL is on the stage's base
    URL and opens the page (checked here against the same signing keys)."""
    done = subprocess.run(
        [sys.executable, "-m", "tools.cli", "report-link", "leaving", "--list", "newsletter", "--minutes", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    url = urlsplit(answer["url"])
    assert f"{url.scheme}://{url.netloc}" == "https://unsubscribe.example.test" and url.path == "/reports/leaving"
    query = dict(parse_qsl(url.query))
    assert query["list_id"] == "newsletter" and 290 <= int(query["expires"]) - time.time() <= 300
    page = api.http.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and b"Why people leave" in page.body
    wrong = subprocess.run(
        [sys.executable, "-m", "tools.cli", "report-link", "leaving"], cwd=ROOT, capture_output=True, text=True
    )
    assert wrong.returncode == 2 and "--list" in wrong.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        ["leaving", "--list", "../x"],
        ["leaving", "--list", "newsletter", "--from", "2026-13"],
        ["leaving", "--list", "newsletter", "--to", "\uff12026-01"],
        ["campaign", "shop", "<x>"],
    ],
)
def test_the_cli_signs_no_link_to_a_page_that_cannot_exist(arguments):
    done = subprocess.run(
        [sys.executable, "-m", "tools.cli", "report-link", *arguments], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2 and "http" not in done.stdout and ("no id" in done.stderr or "no month" in done.stderr)
