"""Test set-up shared by every layer.

The dev stage's settings from `.chalice/config.json` are loaded before anything imports
`chalicelib` (PynamoDB binds endpoint and table names when a model class is created), and moto
is imported before any boto3 client exists.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.pop("DYNAMODB_ENDPOINT", None)  # in-process tests use moto's in-memory backend
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    PUBLIC_BASE_URL="https://unsubscribe.example.test",
    POWERTOOLS_TRACE_DISABLED="true",
)

import botocore.handlers  # noqa: E402
import botocore.hooks  # noqa: E402
import botocore.loaders  # noqa: E402
import moto  # noqa: E402  (must precede any boto3 client)
import pytest  # noqa: E402

from scripts import moto_patches  # noqa: E402

# The embedded server's moto patches, in process too: a transaction snapshots the items it names
# (moto copies whole tables), a Query reads only its partition (moto walks the table), the
# response serializer computes each member's candidate names once, each distinct update expression
# and condition is parsed once and validated without moto's per-node overhead; here also, moto's
# mock start reuses the callbacks it registered before. Every DynamoDB request is told
# to the patches (writes invalidate the index partition maps) by a botocore hook that every
# client of every session gets.
moto_patches.install_item_snapshots()
moto_patches.install_partition_queries()
moto_patches.install_response_key_cache()
moto_patches.install_parsed_expression_cache()
moto_patches.install_parsed_condition_cache()
moto_patches.install_method_name_cache()
moto_patches.install_fast_validation()
moto_patches.install_mock_start_cache()
botocore.handlers.BUILTIN_HANDLERS.append(
    ("before-call.dynamodb", lambda model, **_: moto_patches.note_request(model.name))
)

# Every mock start drops boto3's default session, so a test's first client builds a new session,
# which parsed botocore's JSON models (endpoints, the service's model and rules) from disk again:
# 95-150 ms for a new session and client, 40-48 ms with the files parsed once (20 of each, sqs
# and dynamodb, load 5). The files do not change during a run, and botocore only reads what it
# loads (one session already shares each loaded file between its clients).
_json_files: dict[str, object] = {}
_load_json_file = botocore.loaders.JSONFileLoader.load_file


def _load_json_file_once(self, file_path):
    if file_path not in _json_files:
        _json_files[file_path] = _load_json_file(self, file_path)
    return _json_files[file_path]


botocore.loaders.JSONFileLoader.load_file = _load_json_file_once

# A new session also registers botocore's few hundred built-in handlers, each checked with
# inspect.getfullargspec for a **kwargs parameter; a function's answer never changes.
_accepts_kwargs = botocore.hooks.accepts_kwargs
_kwargs_of: dict[object, bool] = {}


def _accepts_kwargs_once(func) -> bool:
    key = getattr(func, "__func__", func)  # a bound method takes what its function takes
    try:
        known = _kwargs_of.get(key)
    except TypeError:  # unhashable: ask inspect each time
        return _accepts_kwargs(func)
    if known is None:
        known = _kwargs_of[key] = bool(_accepts_kwargs(func))
    return known


botocore.hooks.accepts_kwargs = _accepts_kwargs_once

from tools.stage import load_stage_environment  # noqa: E402

load_stage_environment("dev")

# --- AWS call recording (issue 10) -------------------------------------------------------------
# Every AWS API call made while the tests run is recorded (a botocore hook on every client) and
# checked against each stage's IAM policy by tests/infra/test_permissions.py, which runs last.
pytest_plugins = ["tests.infra.aws_calls", "tests.schedule"]
# ------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_process_state():
    """Per-container caches and windows would otherwise carry over from one test to the next."""
    from chalicelib.core.aws import forget_clients
    from chalicelib.offers import service as offer_service
    from chalicelib.offers import site_cache
    from chalicelib.storage import lists

    site_cache.forget()
    lists.forget_cached_lists()
    offer_service.decisions_per_visitor.clear()
    offer_service.decisions_per_ip.clear()
    offer_service.events_per_ip.clear()
    forget_clients()


@pytest.fixture(scope="session")
def empty_tables():
    """offboard's tables as `create_tables` leaves them, made once per session: each test gets
    copies (creating them costs more than most tests)."""
    from chalicelib.storage.tables import create_tables
    from tests.helpers import moto_tables

    with moto.mock_aws():
        create_tables()
        return moto_tables()


@pytest.fixture
def aws(empty_tables):
    """A fresh in-memory AWS (moto) with offboard's tables, empty: every service starts new."""
    from tests.helpers import install_moto_tables

    with moto.mock_aws():
        install_moto_tables(empty_tables)
        yield


@pytest.fixture
def settings():
    from chalicelib.core.settings import get_settings

    return get_settings()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory):
    """The embedded DynamoDB server and `chalice local`, started once for the session."""
    from tests.helpers import LocalStack

    stack = LocalStack(tmp_path_factory.mktemp("stack-logs"))
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.fixture(autouse=True)
def fresh_settings():
    """Settings are cached for minutes in a container; tests that change the environment start clean."""
    from chalicelib.core.settings import forget_settings

    forget_settings()
    yield
    forget_settings()
