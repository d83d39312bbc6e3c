"""The embedded DynamoDB-compatible server for local runs and tests: moto's server mode.

Three adjustments, none of which changes what a client sees:
- moto's backend is not thread-safe, and its transactions are not atomic against concurrent
  requests; DynamoDB's are. Serialising requests behind one lock restores what DynamoDB promises
  (each request atomic and isolated), which the concurrency tests rely on. This one touches no
  moto internals.
- moto snapshots every table a transaction touches (a deep copy of the whole table) to roll
  back on failure, which makes each transaction cost O(table size). Under the lock it is enough
  to snapshot the items the transaction names, so that is what we do.
- moto answers every Query by walking the whole table. Here a Query looks only at the asked
  partition: the table's own, or, for a secondary index, a partition map rebuilt only after
  a write request (the sunset job reads many index partitions between few writes). Writes are
  recognised by their DynamoDB operation name (`X-Amz-Target`), not by moto's method names.

The last two patch moto internals. `check_moto()` runs at import and names, with a clear
message, anything a moto upgrade changed that they rely on; the server then refuses to start
rather than answer wrongly (`--check` runs only that; `tests/e2e/test_embedded_dynamodb.py`
runs it and shows what a change looks like). Checked with moto 5.2.5.
"""

from __future__ import annotations

import argparse
import copy
import inspect
import re
import sys
import threading
import types

import moto
import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend, Table
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class MotoChanged(RuntimeError):
    """moto no longer has what a patch here relies on."""


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise MotoChanged(
            f"moto {moto.__version__}: {what}. scripts/local_dynamodb.py patches moto internals that "
            "rely on it (checked with moto 5.2.5): adapt or drop that patch before using this moto version."
        )


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def check_moto() -> None:
    """Everything the two moto patches rely on; raises MotoChanged naming what changed."""
    # Item snapshots: moto.dynamodb.models' `copy` is replaced by a namespace whose deepcopy
    # skips Table objects, so moto's own whole-table snapshot costs nothing.
    _require(
        getattr(dynamodb_models, "copy", None) is copy,
        "moto.dynamodb.models no longer imports the `copy` module as `copy`",
    )
    used = set(re.findall(r"\bcopy\.(\w+)", inspect.getsource(dynamodb_models)))
    _require(
        used <= {"deepcopy"},
        f"moto.dynamodb.models uses copy.{', copy.'.join(sorted(used - {'deepcopy'}))} "
        "(the replacement `copy` offers only deepcopy)",
    )
    _require(
        _parameters(DynamoDBBackend.transact_write_items) == ["self", "transact_items"],
        "DynamoDBBackend.transact_write_items(self, transact_items) changed its parameters",
    )
    _require(
        _parameters(Table.get_item)[:3] == ["self", "hash_key", "range_key"],
        "Table.get_item(self, hash_key, range_key, ...) changed its parameters",
    )
    _require(
        _parameters(Table.delete_item)[:3] == ["self", "hash_key", "range_key"],
        "Table.delete_item(self, hash_key, range_key) changed its parameters",
    )
    init = inspect.getsource(Table.__init__)
    for attribute in ("self.items = defaultdict(dict)", "self.hash_key_attr", "self.range_key_attr"):
        _require(attribute in init, f"Table.__init__ no longer sets `{attribute}` (items by hash, then range key)")
    # Partition queries: Table.query's candidates come from `self.all_items()`, which is
    # replaced on the instance for the duration of one call.
    query = _parameters(Table.query)
    for name in ("hash_key", "index_name", "hash_key_conditions"):
        _require(name in query, f"Table.query has no parameter `{name}`")
    _require(
        inspect.getsource(Table.query).count("self.all_items()") == 2,
        "Table.query no longer takes its candidates from self.all_items() (once per branch)",
    )
    _require(
        inspect.isfunction(inspect.getattr_static(Table, "all_items")) and not hasattr(Table, "__slots__"),
        "Table.all_items is no longer a plain method that an instance attribute can shadow",
    )


try:
    check_moto()
except MotoChanged as error:
    if __name__ == "__main__":
        sys.exit(f"local_dynamodb.py: {error}")
    raise


# Item snapshots for transactions.

_original_transact_write_items = DynamoDBBackend.transact_write_items


def _key_of(table: Table, op: dict) -> tuple | None:
    attrs = op.get("Item") or op.get("Key") or {}
    if table.hash_key_attr not in attrs or (table.range_key_attr and table.range_key_attr not in attrs):
        return None
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    return hash_value, range_value


def _restore(table: Table, hash_value, range_value, item) -> None:
    if item is None:
        table.delete_item(hash_value, range_value)
    elif range_value is not None:
        table.items[hash_value][range_value] = item
    else:
        table.items[hash_value] = item


def transact_write_items_snapshotting_items(self, transact_items):
    snapshots = []
    for entry in transact_items:
        op = next(iter(entry.values()))
        table = self.tables.get(op.get("TableName"))
        key = _key_of(table, op) if table is not None else None
        if key is not None:
            snapshots.append((table, *key, copy.deepcopy(table.get_item(*key))))
    try:
        return _original_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_value, range_value, item in reversed(snapshots):
            _restore(table, hash_value, range_value, item)
        raise


def _deepcopy_except_tables(value, memo=None):
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


dynamodb_models.copy = types.SimpleNamespace(deepcopy=_deepcopy_except_tables)
DynamoDBBackend.transact_write_items = transact_write_items_snapshotting_items


# Partition queries.

READS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "DescribeTimeToLive",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "ListTables",
        "ListTagsOfResource",
    }
)
_writes = 0  # bumped by every request that is not a read; index partition maps older than it are rebuilt
_index_partitions: dict[tuple[int, str, str], tuple[int, dict]] = {}


def _partition(table: Table, hash_key, index_name, hash_key_conditions) -> list | None:
    if index_name is None:
        if hash_key is None:
            return None
        found = table.items.get(hash_key)
        if found is None:
            return []
        return list(found.values()) if table.range_key_attr else [found]
    if not hash_key_conditions or len(hash_key_conditions) != 1:
        return None
    attribute, value = hash_key_conditions[0]
    cache_key = (id(table), index_name, attribute)
    version, partitions = _index_partitions.get(cache_key, (-1, None))
    if version != _writes:
        partitions = {}
        for item in table.all_items():
            key = item.attrs.get(attribute)
            if key is not None:
                partitions.setdefault(key, []).append(item)
        _index_partitions[cache_key] = (_writes, partitions)
    return partitions.get(value, [])


_original_query = Table.query
_query_signature = inspect.signature(_original_query)


def query_one_partition(self, *args, **kwargs):
    arguments = _query_signature.bind(self, *args, **kwargs).arguments
    candidates = _partition(
        self, arguments.get("hash_key"), arguments.get("index_name"), arguments.get("hash_key_conditions")
    )
    if candidates is not None:
        self.all_items = lambda: candidates  # moto filters and sorts what this returns
    try:
        return _original_query(self, *args, **kwargs)
    finally:
        self.__dict__.pop("all_items", None)


Table.query = query_one_partition


class Serialised:
    """One request at a time, the whole response read inside the lock (WSGI bodies can be lazy)."""

    def __init__(self, app):
        self.app, self.lock = app, threading.Lock()

    def __call__(self, environ, start_response):
        global _writes
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        with self.lock:
            if operation not in READS:
                _writes += 1
            return list(self.app(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--check", action="store_true", help="only check that moto still has what the patches need")
    args = parser.parse_args()
    if args.check:
        print(f"moto {moto.__version__}: everything the embedded server's patches rely on is there")
        return
    app = Serialised(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
