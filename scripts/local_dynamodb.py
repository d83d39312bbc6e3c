"""The embedded DynamoDB-compatible server for local runs and tests: moto's server mode.

Three adjustments, none of which changes what a client sees:
- moto's backend is not thread-safe, and its transactions are not atomic against concurrent
  requests; DynamoDB's are. Serialising requests behind one lock restores what DynamoDB promises
  (each request atomic and isolated), which the concurrency tests rely on.
- moto snapshots every table a transaction touches (a deep copy of the whole table) to roll
  back on failure, which makes each transaction cost O(table size). Under the lock it is enough
  to snapshot the items the transaction names, so that is what we do.
- moto answers every Query by walking the whole table. Here a Query looks only at the asked
  partition: the table's own, or, for a secondary index, a partition map rebuilt only after
  a write (the sunset job reads many index partitions between few writes).
"""

from __future__ import annotations

import argparse
import copy
import threading
import types

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend, Table
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

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

_writes = 0  # bumped by every write; index partition maps older than it are rebuilt
_index_partitions: dict[tuple[int, str, str], tuple[int, dict]] = {}


def _counting_writes(method):
    def write(self, *args, **kwargs):
        global _writes
        _writes += 1
        return method(self, *args, **kwargs)

    return write


for _name in (
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "transact_write_items",
    "create_table",
    "delete_table",
):
    setattr(DynamoDBBackend, _name, _counting_writes(getattr(DynamoDBBackend, _name)))

_original_query = Table.query


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


def query_one_partition(self, hash_key, *args, **kwargs):
    # moto's Table.query(hash_key, range_comparison, range_objs, limit, exclusive_start_key,
    # scan_index_forward, projection_expressions, index_name, ...)
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    candidates = _partition(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
    if candidates is not None:
        self.all_items = lambda: candidates  # moto filters and sorts what this returns
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        self.__dict__.pop("all_items", None)


Table.query = query_one_partition


class Serialised:
    def __init__(self, app):
        self.app, self.lock = app, threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            # Read the whole response inside the lock: WSGI bodies can be lazy.
            return list(self.app(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    app = Serialised(DomainDispatcherApplication(create_backend_app))
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
