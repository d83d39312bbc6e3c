"""One Logger, one Metrics and (when switched on) one Tracer for the whole service, and the
middleware that runs around every invocation, HTTP and events alike.

The service name differs from the Chalice app name on purpose: equal names print every line twice.
The Tracer imports the X-Ray SDK, which costs about 300 ms of cold start here; it is created on
the first invocation only when `OFFBOARD_TRACING=on`. Lambda's active tracing (infra) still
traces every invocation without it.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib.core.settings import observability_settings

SERVICE = "offboard-api"
NAMESPACE = observability_settings()[0]

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, **dimensions: str) -> None:
    """Add one to a metric; dimensions (never personal data) go on a single-metric blob."""
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        return
    with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=value)


def flush() -> None:
    if metrics.metric_set:
        metrics.flush_metrics()


@lru_cache(maxsize=1)
def tracer():
    if not observability_settings()[1]:
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


@contextmanager
def traced(name: str, **annotations: str):
    """A subsegment around a request or job step, annotated (never with personal data)."""
    active = tracer()
    if active is None:
        yield
        return
    with active.provider.in_subsegment(f"## {name}") as subsegment:
        for key, value in annotations.items():
            subsegment.put_annotation(key, value)
        yield


def _describe(event) -> tuple[str, str, dict]:
    """(correlation id, segment name, annotations) for an HTTP request or an event."""
    from chalice.app import Request

    if isinstance(event, Request):
        context = event.context or {}
        route = context.get("resourcePath", "unknown")
        return context.get("requestId") or uuid.uuid4().hex, f"{event.method} {route}", {"route": route}
    context = getattr(event, "context", None)
    kind = type(event).__name__
    return getattr(context, "aws_request_id", None) or uuid.uuid4().hex, kind, {"event": kind}


def observe(event, get_response):
    """Chalice middleware for every event type: fresh logging state, a correlation id,
    a trace subsegment, and the metrics flushed whatever happens."""
    logger.clear_state()
    correlation_id, name, annotations = _describe(event)
    logger.set_correlation_id(correlation_id)
    function = getattr(getattr(event, "context", None), "function_name", None)
    if function:
        logger.append_keys(function_name=function)
    try:
        with traced(name, **annotations):
            return get_response(event)
    finally:
        flush()
