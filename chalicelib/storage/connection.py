"""The DynamoDB endpoint, region and table names the models bind to, and the one connection
that transactions share."""

from __future__ import annotations

from functools import lru_cache

import botocore.loaders
import botocore.session
from pynamodb.connection import Connection
from pynamodb.connection import base as pynamodb_base

from chalicelib.core.aws import CONNECT_TIMEOUT_SECONDS, MAX_ATTEMPTS, READ_TIMEOUT_SECONDS
from chalicelib.core.settings import table_settings

TABLES = table_settings()

# PynamoDB gives every model class a connection of its own, and each builds a new botocore session
# that reads DynamoDB's service description from disk again (about 200 ms a class on a busy
# machine, against 20 ms with a shared loader: docs/storage.md). The sessions stay PynamoDB's,
# one per thread as it wants them; only the loader of the JSON descriptions, a read-only cache,
# is shared. Applied only to the `get_session` PynamoDB 6 imports from botocore.
_LOADER = botocore.loaders.create_loader()


def _session_with_the_shared_loader() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session


if pynamodb_base.get_session is botocore.session.get_session:
    pynamodb_base.get_session = _session_with_the_shared_loader


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
