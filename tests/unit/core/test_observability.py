"""Logs carry correlation ids and no personal data; metrics flush; tracing switches on."""

import io
import json

from chalice.test import Client

from app import app


def test_each_request_logs_its_correlation_id_and_no_address(aws, monkeypatch, capsys):
    from chalicelib.core.observability import logger
    from chalicelib.storage import lists

    lists.create_list("newsletter", "Newsletter")
    log = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", log)
    with Client(app) as client:
        client.http.post(
            "/v1/lists/newsletter/subscribers",
            headers={"X-Api-Key": "dev-admin-key", "Content-Type": "application/json"},
            body=json.dumps({"email": "private.person@example.com"}).encode(),
        )
        client.http.post(
            "/u/k1.sx.newsletter..bad", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b""
        )
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert lines and all("correlation_id" in line for line in lines)
    everything = log.getvalue() + capsys.readouterr().out
    assert "private.person" not in everything and "example.com" not in everything


def test_tracing_is_off_unless_switched_on(monkeypatch):
    from chalicelib.core import observability

    observability.tracer.cache_clear()
    assert observability.tracer() is None
    with observability.traced("GET /x", route="/x"):
        pass
    monkeypatch.setenv("OFFBOARD_TRACING", "on")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    observability.tracer.cache_clear()
    try:
        assert observability.tracer() is not None
        with observability.traced("GET /x", route="/x"):
            pass
    finally:
        observability.tracer.cache_clear()


def test_issuing_a_code_emits_a_codes_issued_metric(aws, capsys):
    from chalicelib.offers import admin as site_admin
    from chalicelib.offers import service as offer_service
    from chalicelib.offers.decision import parse_visit

    site_admin.create_site("shop", "Shop", ["https://shop.example"])
    site_admin.put_campaign("shop", "c1", {"offer": {"kind": "percent", "value": 10}, "budget": {"total_codes": 5}})
    capsys.readouterr()
    visit = parse_visit(
        {"site_key": "shop", "visitor_id": "v1", "page_url": "https://shop.example/"}, "Mozilla/5.0 (X11) Chrome/130"
    )
    assert offer_service.decide_offer(visit, "https://shop.example", "ip").show
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert any(m.get("CodesIssued") == [1.0] and m.get("campaign_id") == "c1" for m in metrics)
