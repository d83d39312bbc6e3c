"""One Logger and one Metrics for the whole service.

The service name differs from the Chalice app name on purpose: equal names print every line twice.
"""

from __future__ import annotations

import os

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
