"""One Logger, one Metrics and (when switched on) one Tracer for the whole service.

The service name differs from the Chalice app name on purpose: equal names print every line twice.
The Tracer imports the X-Ray SDK, which costs about 300 ms of cold start here; it is created on
the first request only when `OFFBOARD_TRACING=on`. Lambda's active tracing (infra) still traces
every invocation without it.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "offboard-api"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Offboard")

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
    if os.environ.get("OFFBOARD_TRACING") != "on":
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
