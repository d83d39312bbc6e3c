"""Logs carry correlation ids and no personal data; metrics flush; tracing switches on."""

import io
import json

from chalice.test import Client

from app import app


def test_each_request_logs_its_correlation_id_and_no_address(aws, monkeypatch, capsys):
    from chalicelib.observability import logger
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
    from chalicelib import observability

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
