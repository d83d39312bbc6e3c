"""One error path for every route: what goes wrong is answered in the route's own kind (a JSON
problem for machines, CORS JSON for the snippet, an HTML page for people), storage trouble is a
503 with Retry-After, and anything unexpected is a clean 500 with no trace; the middleware runs
around events too."""

import io
import json

import pytest
from chalice.test import Client
from pynamodb.exceptions import GetError

from app import app
from tests.api.test_offers_api import BROWSER, CAMPAIGN, ORIGIN


def boom(*args, **kwargs):
    raise RuntimeError("a bug with a secret detail")


def stall(*args, **kwargs):
    raise GetError("storage stalled")


def test_an_unexpected_error_on_a_json_route_is_a_clean_json_500(api, monkeypatch):
    from chalicelib.unsubscribe import senders

    monkeypatch.setattr(senders, "headers_for", boom)
    response = api.admin("POST", "/v1/unsubscribe-headers", {"email": "alice@example.com", "list_id": "newsletter"})
    assert response.status_code == 500
    assert response.json_body == {
        "error": "internal",
        "message": "something went wrong on our side; it has been logged",
    }
    assert b"secret detail" not in response.body and b"Traceback" not in response.body


@pytest.mark.parametrize(("fault", "status"), [(boom, 500), (stall, 503)])
def test_a_page_answers_a_page_whatever_goes_wrong(api, monkeypatch, fault, status):
    from chalicelib.storage import subscribers

    link = api.link("alice@example.com")
    monkeypatch.setattr(subscribers, "get_subscription", fault)
    response = api.http.get(link, headers={"Accept-Language": "th"})
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html" in response.body.decode() and 'lang="th"' in response.body.decode()
    assert b"secret detail" not in response.body and b"storage stalled" not in response.body
    if status == 503:
        assert response.headers["Retry-After"] == "5"
        # A GET only shows the page: it says nothing changed, never "we could not save your choice".
        assert "ไม่สามารถแสดงหน้านี้ได้ในขณะนี้" in response.body.decode()
        english = api.http.get(link, headers={"Accept-Language": "en"}).body
        assert b"nothing has changed" in english and b"save your choice" not in english


def test_the_snippets_endpoints_answer_json_with_cors_when_they_fail(api, monkeypatch):
    from chalicelib.offers import service

    api.admin("POST", "/v1/sites", {"site_key": "shop", "name": "Shop", "allowed_origins": [ORIGIN]})
    api.admin("PUT", "/v1/sites/shop/campaigns/c1", CAMPAIGN)
    monkeypatch.setattr(service, "decide_offer", boom)
    body = {"site_key": "shop", "visitor_id": "v1", "page_url": f"{ORIGIN}/cart"}
    response = api.http.post("/offers/decide", headers=BROWSER, body=json.dumps(body).encode())
    assert response.status_code == 500 and response.json_body["error"] == "internal"
    bad = api.http.post("/offers/decide", headers=BROWSER, body=b'{"site_key": 5}')
    assert bad.status_code == 400 and bad.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_the_middleware_runs_around_events_it_flushes_metrics_and_sets_a_correlation_id(api, monkeypatch, capsys):
    from chalicelib.core.observability import logger

    log = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", log)
    capsys.readouterr()
    with Client(app) as client:
        client.lambda_.invoke("ses_event_from_sns", client.events.generate_sns_event(message="{not json"))
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert any(m.get("outcome") == "malformed" for m in metrics)
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert lines and all(line.get("correlation_id") for line in lines)


def test_a_wrong_content_type_is_answered_in_the_routes_own_kind(api):
    path = api.link("alice@example.com")
    for suffix in ("/undo", "/survey"):
        page = api.http.post(path + suffix, headers={"Content-Type": "application/json"}, body=b'{"event": "x"}')
        assert page.status_code == 415 and page.headers["Content-Type"].startswith("text/html"), suffix
    admin = api.http.post(
        "/v1/lists", headers={"X-Api-Key": "dev-admin-key", "Content-Type": "text/xml"}, body=b"<list/>"
    )
    assert admin.status_code == 415 and admin.json_body["error"] == "unsupported_media_type"
    csv = api.http.post(
        "/v1/lists/newsletter/imports", headers={"X-Api-Key": "dev-admin-key", "Content-Type": "image/png"}, body=b"x"
    )
    assert csv.status_code == 415 and csv.json_body["error"] == "unsupported_media_type"
