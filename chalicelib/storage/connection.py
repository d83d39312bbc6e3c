"""The DynamoDB endpoint, region and table names the models bind to, and the one connection
that transactions share."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection

from chalicelib.core.aws import CONNECT_TIMEOUT_SECONDS, MAX_ATTEMPTS, READ_TIMEOUT_SECONDS
from chalicelib.core.settings import table_settings

TABLES = table_settings()


class TableMeta:
    """Shared PynamoDB `Meta` fields; PynamoDB binds them when a model class is created."""

    host = TABLES.endpoint
    region = TABLES.region
    billing_mode = "PAY_PER_REQUEST"
    # Throttling and timeouts are retried with backoff, within what an API Gateway request can
    # wait for: the same budget as every other client (core.aws).
    max_retry_attempts = MAX_ATTEMPTS
    connect_timeout_seconds = CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds = READ_TIMEOUT_SECONDS


@lru_cache(maxsize=1)
def connection() -> Connection:
    return Connection(
        region=TABLES.region,
        host=TABLES.endpoint,
        max_retry_attempts=TableMeta.max_retry_attempts,
        connect_timeout_seconds=TableMeta.connect_timeout_seconds,
        read_timeout_seconds=TableMeta.read_timeout_seconds,
    )
