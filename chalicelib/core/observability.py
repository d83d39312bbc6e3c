"""One Logger, one metrics buffer and (when switched on) one Tracer for the whole service, and
the middleware that runs around every invocation, HTTP and events alike.

The service name differs from the Chalice app name on purpose: equal names print every line twice.
The Tracer imports the X-Ray SDK, which costs about 300 ms of cold start here; it is created on
the first invocation only when `OFFBOARD_TRACING=on`. Lambda's active tracing (infra) still
traces every invocation without it.

State belongs to the invocation's thread (the CLI's `work-queues` runs one queue per thread): the
correlation id and keys are the Logger's thread-safe keys, and `count()` adds to this thread's
buffer, written at the end of the invocation as one EMF record per dimension set.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from functools import lru_cache

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from chalicelib.core.settings import observability_settings

SERVICE = "offboard-api"
NAMESPACE = observability_settings()[0]

logger = Logger(service=SERVICE)
_invocation = threading.local()  # .metrics: {dimensions: Counter(name -> count)} while one runs

Dimensions = tuple[tuple[str, str], ...]


def count(name: str, **dimensions: str) -> None:
    """Add one to a metric; dimensions (never personal data) set which series it counts in.

    Inside an invocation the counts add up until it ends (`observe`); outside one (the CLI, a
    script) each count is written at once."""
    key = tuple(sorted(dimensions.items()))
    buffer = getattr(_invocation, "metrics", None)
    if buffer is None:
        _write({key: Counter({name: 1})})
    else:
        buffer[key][name] += 1


def flush() -> None:
    """Write what this thread's invocation has counted so far (one record per dimension set)."""
    buffer = getattr(_invocation, "metrics", None)
    if buffer:
        _invocation.metrics = defaultdict(Counter)
        _write(buffer)


def _write(groups: dict[Dimensions, Counter]) -> None:
    for dimensions, counts in groups.items():
        record = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
        for key, value in dimensions:
            record.add_dimension(name=key, value=value)
        for name, value in counts.items():
            record.add_metric(name=name, unit=MetricUnit.Count, value=value)
        record.flush_metrics()


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
    """Chalice middleware for every event type: fresh logging state and metrics for this thread,
    a correlation id, a trace subsegment, and the metrics written whatever happens."""
    logger.thread_safe_clear_keys()
    _invocation.metrics = defaultdict(Counter)
    try:
        correlation_id, name, annotations = _describe(event)
        function = getattr(getattr(event, "context", None), "function_name", None)
        logger.thread_safe_append_keys(
            correlation_id=correlation_id, **({"function_name": function} if function else {})
        )
        with traced(name, **annotations):
            return get_response(event)
    finally:
        flush()
        _invocation.metrics = None
