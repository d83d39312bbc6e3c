"""The cancellation report: save rate by reason and by offer against the holdout of the same
reasons (the offer report's Newcombe interval, only past the minimum sample), reasons per week,
value given away in integer minor units per currency; as JSON, and as a page of accessible SVG
charts opened by a signed report link."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from chalicelib.cancel import contracts, report
from chalicelib.domain import cancel as rules
from chalicelib.domain.cancel import OfferKind, SaveOffer
from chalicelib.offers import report as offer_report
from tests.api.test_cancel_api import click, open_session, page, session_body
from tests.api.test_report_links import minted


def split_by_arm(reason: str, n: int, prefix: str) -> tuple[list[str], list[str]]:
    offered, held_out = [], []
    for i in range(n):
        request = contracts.parse_session_request(
            session_body(subscription_id=f"{prefix}{i}"), datetime.now(UTC).date()
        )
        arm, _ = rules.choose_offer(rules.open_session(request, rules.DEFAULT_FLOW, "x", datetime.now(UTC)), reason)
        (held_out if arm == rules.HOLDOUT else offered).append(f"{prefix}{i}")
    return offered, held_out


@pytest.mark.parametrize(
    ("offer", "price", "given"),
    [
        (SaveOffer("d", OfferKind.DISCOUNT, percent=25, months=3), 1999, 1499),  # 1499.25 rounded down
        (SaveOffer("p", OfferKind.PAUSE, months=2), 1999, 3998),
        (SaveOffer("c", OfferKind.CHEAPER_PLAN, plan="Lite", price=999), 1999, 12000),
        (SaveOffer("c", OfferKind.CHEAPER_PLAN, plan="Lite", price=2500), 1999, 0),
        (SaveOffer("d", OfferKind.DISCOUNT, percent=10, months=1), 1000, 100),  # JPY: no decimals
    ],
)
def test_value_given_away_is_an_integer_of_minor_units(offer, price, given):
    assert rules.value_given(offer, price) == given
    assert isinstance(rules.value_given(offer, price), int)


def test_the_report_reuses_the_offer_reports_statistics():
    assert report.lift is offer_report.lift and report.wilson is offer_report.wilson  # one implementation


def test_save_rate_by_offer_against_the_same_reasons_holdout_and_value_given(api):
    offered, held_out = split_by_arm("unused", 120, "u")
    for n, subscription in enumerate(offered[:40]):
        _, path = open_session(api, subscription_id=subscription)
        click(api, path, action="continue", reason="unused")
        click(api, path, **({"action": "accept", "offer_id": "pause-2"} if n % 4 == 0 else {"action": "cancel"}))
    for subscription in held_out[:30]:
        _, path = open_session(api, subscription_id=subscription)
        click(api, path, action="continue", reason="unused")
    # A session in yen that accepts the discount: its value counts in its own currency.
    offered_price, _ = split_by_arm("too_expensive", 40, "p")
    _, path = open_session(api, subscription_id=offered_price[0], currency="JPY", price=1000)
    click(api, path, action="continue", reason="too_expensive")
    assert "Done: 25% off" in page(click(api, path, action="accept", offer_id="discount-25-3"))

    data = api.admin("GET", "/v1/cancel-flows/acme/report").json_body
    pause = data["offers"]["pause-2"]
    assert (pause["sessions"], pause["saved"], pause["cancelled"]) == (40, 10, 30)
    assert pause["reasons"] == ["unused"] and pause["holdout"]["sessions"] == min(30, len(held_out))
    assert pause["value_given"] == {"USD": 10 * 1999 * 2}
    if len(held_out) >= 30:
        assert pause["lift_vs_holdout"]["method"] == "newcombe-wilson"
        low, high = pause["lift_vs_holdout"]["interval_95"]
        assert low < 0.25 < high and -1 <= low <= high <= 1
    assert data["offers"]["discount-25-3"]["value_given"] == {"JPY": 1000 * 25 * 3 // 100}
    assert data["value_given"]["total"] == {"JPY": 750, "USD": 39980}
    assert data["value_given"]["by_reason"] == {"too_expensive": {"JPY": 750}, "unused": {"USD": 39980}}
    assert all(isinstance(v, int) for v in data["value_given"]["total"].values())


def test_reasons_over_time_count_each_session_in_the_week_it_was_answered(api, monkeypatch):
    from chalicelib.cancel import routes

    real_now = datetime.now(UTC)
    two_weeks_ago = real_now - timedelta(weeks=2)
    monkeypatch.setattr(routes, "_now", lambda: two_weeks_ago)
    for n in range(3):
        _, path = open_session(api, subscription_id=f"old{n}")
        click(api, path, action="cancel", reason="too_complex")
    monkeypatch.setattr(routes, "_now", lambda: real_now)
    for n, reason in enumerate(("too_complex", "other", "other")):
        _, path = open_session(api, subscription_id=f"new{n}")
        click(api, path, action="cancel", reason=reason)
        click(api, path, action="cancel", reason=reason)  # a double click counts once
    _, path = open_session(api, subscription_id="quiet")
    click(api, path, action="cancel")  # no reason given
    over = api.admin("GET", "/v1/cancel-flows/acme/report?weeks=4").json_body["over_time"]
    monday = real_now.date() - timedelta(days=real_now.weekday())
    assert over["weeks"] == [(monday - timedelta(weeks=n)).isoformat() for n in (3, 2, 1, 0)]
    assert over["reasons"] == {"none": [0, 0, 0, 1], "other": [0, 0, 0, 2], "too_complex": [0, 3, 0, 1]}
    assert over["sessions"] == [0, 3, 0, 4]
    assert api.admin("GET", "/v1/cancel-flows/acme/report?weeks=0").status_code == 400


def test_the_page_opens_with_a_signed_link_and_its_charts_are_accessible(api):
    offered, _ = split_by_arm("unused", 10, "g")
    _, path = open_session(api, subscription_id=offered[0])
    click(api, path, action="continue", reason="unused")
    click(api, path, action="accept", offer_id="pause-2")
    _, path = open_session(api, subscription_id="h1")
    click(api, path, action="cancel", reason="switched_service")

    assert api.http.get("/reports/cancel-flows/acme").status_code == 401
    link = minted("/reports/cancel-flows/acme")
    assert api.http.get(link.replace("/acme", "/other")).status_code == 403
    answer = api.http.get(link)
    html = answer.body.decode()
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/html")
    svgs = re.findall(r"<svg ([^>]*)>(.*?)</svg>", html, re.S)
    assert len(svgs) == 2
    for attributes, inner in svgs:
        labelled = re.search(r'aria-labelledby="([^"]+)"', attributes).group(1).split()
        assert 'role="img"' in attributes
        assert f'<title id="{labelled[0]}">' in inner and f'<desc id="{labelled[1]}">' in inner
        # Drawn at most 340 px wide: on a 390 px phone it is not scaled down, its 12 px text stays 12 px.
        assert int(re.search(r'width="(\d+)"', attributes).group(1)) <= 340
    assert "3998 minor units" in html and "39.98 USD" in html
    assert "switched_service" in html and "pause-2" in html
    # The same page for an operator's Accept: text/html on the admin route.
    admin_page = api.admin("GET", "/v1/cancel-flows/acme/report", headers={"Accept": "text/html"})
    assert admin_page.status_code == 200 and "Reasons over time" in admin_page.body.decode()


def test_report_link_mints_a_cancel_report_link(api, monkeypatch):
    import io

    from tools.cli import output
    from tools.cli.reports import report_link

    printed = io.StringIO()
    monkeypatch.setattr(output, "OUT", printed)  # where the CLI's results go, whatever ran before
    result = CliRunner().invoke(report_link, ["cancel", "acme", "--minutes", "5"])
    assert result.exit_code == 0, result.output
    url = re.search(r'https?://\S+?/reports/cancel-flows/acme\?[^"\s]+', printed.getvalue()).group(0)
    assert api.http.get(url[url.index("/reports/") :]).status_code == 200
    assert CliRunner().invoke(report_link, ["cancel"]).exit_code == 2
