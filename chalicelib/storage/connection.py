"""The one DynamoDB connection that transactions share, bound to the configured endpoint."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection

from chalicelib.settings import table_settings

ENDPOINT, REGION, LISTS_TABLE, SUBSCRIBERS_TABLE, OFFERS_TABLE = table_settings()


class TableMeta:
    """Shared PynamoDB `Meta` fields; PynamoDB binds them when a model class is created."""

    host = ENDPOINT
    region = REGION
    billing_mode = "PAY_PER_REQUEST"
    # Throttling and timeouts are retried with backoff (botocore's standard mode), within
    # what an API Gateway request can wait for.
    max_retry_attempts = 3
    connect_timeout_seconds = 1
    read_timeout_seconds = 3


@lru_cache(maxsize=1)
def connection() -> Connection:
    return Connection(
        region=REGION,
        host=ENDPOINT,
        max_retry_attempts=TableMeta.max_retry_attempts,
        connect_timeout_seconds=TableMeta.connect_timeout_seconds,
        read_timeout_seconds=TableMeta.read_timeout_seconds,
    )
