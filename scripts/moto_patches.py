"""Eight patches of moto that make it fast without changing what a client sees, shared by the
embedded server (scripts/local_dynamodb.py) and the in-process `aws` fixture of the tests.

- Item snapshots: moto snapshots every table a transaction touches (a deep copy of the whole
  table) to roll back on failure, which makes each transaction cost O(table size). Snapshotting
  the items the transaction names is enough: only those can change. Rollback, cancellation
  reasons (with ALL_OLD items) and every other behaviour stay moto's own.
- Partition queries: moto answers every Query by walking the whole table. Patched, a Query looks
  only at the asked partition: the table's own, or, for a secondary index, a partition map
  rebuilt only after a write (`note_request()`, called with each request's operation by whoever
  sees the requests: the server's request wrapper, a botocore hook in the tests), from the
  table's items unsorted (moto's own all_items() sorts the whole table on every call). The
  sunset job reads many index partitions between few writes.
- Response key aliases: moto's response serializer looks every member of every shape up in the
  result under up to a dozen candidate names (`Items`, `ItemList`, `items`, ...), computed anew
  for each value: for a DynamoDB item, each of the ten members of each attribute value. For a
  plain dict result the candidates depend only on the member's name, its shape and that shape's
  parent, so they are computed once per (name, shape, parent) and reused, and once known they
  are looked up in the dict directly (moto builds a context object per lookup).

- Parsed update expressions: moto parses a request's UpdateExpression twice (to check the names
  and values it uses, then to apply it), and the same few expressions come back on every write.
  Patched, each distinct expression is parsed once; moto only reads the parsed tree (the
  validator works on a deep copy of it), and an expression that does not parse raises each time.

- Parsed condition expressions: moto parses each ConditionExpression from scratch (a regular
  expression per token), twice in a transaction (to check the names it uses, then to evaluate
  it); it was a third of the embedded server's time in a 10,001-row import. Patched, a parse
  with the same expression, names and values returns the tree parsed before (moto's condition
  trees are only read when evaluated), and an expression seen before with other values skips
  the lexing; one that does not parse raises each time.

- Action names: for every request, moto lists the response class's methods (inspect.getmembers)
  to see whether the action is one of them. Patched, each class's method names are listed once.

- Update expression validation: moto validates every UpdateExpression with ten passes over a deep
  copy of its tree; each pass rebuilt its map of node classes twice per node and tested every
  node with isinstance on abstract classes, and the copy went through the pickle protocol. In the
  tests' in-process moto that validation was a sixth of all the CPU of the API, integration and
  contract tests. Patched, each pass reads its map once and looks each node type up once (same
  processors, same nodes, same order), and the tree is copied attribute by attribute.

- Mock start (the tests only): every `mock_aws()` start built about 1,300 `responses` callbacks
  (one per AWS URL pattern and HTTP method), 7 of the 9 ms a test's `aws` fixture cost. Patched,
  each is built once and registered again on each start.

All eight patch moto internals. `check_moto()` names, with a clear message, anything a moto upgrade
changed that they rely on (MotoChanged), so nothing answers wrongly on a newer moto; each
install function runs it first. Checked with moto 5.2.5. Not shipped (scripts/ is not packaged).
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import re
import types
from collections import deque

import moto
import moto.core.models as core_models
import moto.core.responses as core_responses
import moto.core.serialize as serialize
import moto.dynamodb.comparisons as comparisons
import moto.dynamodb.models as dynamodb_models
import moto.dynamodb.parsing.ast_nodes as ast_nodes
import moto.dynamodb.parsing.validators as validators
import moto.dynamodb.responses as dynamodb_responses
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.models import DynamoDBBackend, Table
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.parsing.expressions import UpdateExpressionParser


class MotoChanged(RuntimeError):
    """moto no longer has what a patch here relies on."""


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise MotoChanged(
            f"moto {moto.__version__}: {what}. scripts/moto_patches.py patches moto internals that "
            "rely on it (checked with moto 5.2.5): adapt or drop that patch before using this moto version."
        )


def _parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def check_moto() -> None:
    """Everything the patches rely on; raises MotoChanged naming what changed."""
    # Item snapshots: moto.dynamodb.models' `copy` is replaced by a namespace whose deepcopy
    # skips Table objects, so moto's own whole-table snapshot costs nothing.
    _require(
        getattr(dynamodb_models, "copy", None) in (copy, _COPY_SKIPPING_TABLES),
        "moto.dynamodb.models no longer imports the `copy` module as `copy`",
    )
    used = set(re.findall(r"\bcopy\.(\w+)", inspect.getsource(dynamodb_models)))
    _require(
        used <= {"deepcopy"},
        f"moto.dynamodb.models uses copy.{', copy.'.join(sorted(used - {'deepcopy'}))} "
        "(the replacement `copy` offers only deepcopy)",
    )
    _require(
        _parameters(_ORIGINAL_TRANSACT_WRITE_ITEMS) == ["self", "transact_items"],
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
    query = _parameters(_ORIGINAL_QUERY)
    for name in ("hash_key", "index_name", "hash_key_conditions"):
        _require(name in query, f"Table.query has no parameter `{name}`")
    _require(
        inspect.getsource(_ORIGINAL_QUERY).count("self.all_items()") == 2,
        "Table.query no longer takes its candidates from self.all_items() (once per branch)",
    )
    _require(
        inspect.isfunction(inspect.getattr_static(Table, "all_items")) and not hasattr(Table, "__slots__"),
        "Table.all_items is no longer a plain method that an instance attribute can shadow",
    )
    # Response key aliases: the candidates come from these providers, which read nothing of a
    # plain dict but its class, and of the member its name, shape and the shape's parent.
    _require(
        _parameters(_ORIGINAL_POSSIBLE_KEYS) == ["self", "context"]
        and [provider.__name__ for provider in serialize.DEFAULT_ALIAS_PROVIDERS] == list(_ALIAS_PROVIDERS)
        and {"obj", "key", "shape"} <= set(inspect.signature(serialize.AttributePickerContext).parameters)
        and "self.alias_providers" in inspect.getsource(serialize.AttributePicker.__init__)
        and _parameters(_ORIGINAL_GET_VALUE) == ["self", "value", "key", "shape"]
        and "self._value_picker(context)" in inspect.getsource(_ORIGINAL_GET_VALUE)
        and "get_value(obj, possible_key, MISSING)" in inspect.getsource(serialize.AttributePicker.__call__),
        "moto.core.serialize's attribute picker (XFormedAttributePicker.get_possible_keys(self, context), "
        f"alias providers {', '.join(_ALIAS_PROVIDERS)}, ResponseSerializer.get_value(self, value, key, "
        "shape) asking the picker) changed",
    )

    # Parsed update expressions: parsed in these three places only, and the validator, which
    # rewrites the tree, works on its own deep copy.
    _require(
        _parameters(_ORIGINAL_MAKE) == ["expression_str"]
        and inspect.getsource(dynamodb_responses).count("UpdateExpressionParser.make(") == 2
        and inspect.getsource(dynamodb_models).count("UpdateExpressionParser.make(") == 1
        and "self.node_to_validate = deepcopy(expression)" in inspect.getsource(validators.Validator.__init__),
        "moto parses update expressions in other places than DynamoHandler.update_item, "
        "DynamoHandler.transact_write_items and DynamoDBBackend.update_item, or its Validator no longer deep-copies "
        "the parsed tree",
    )

    # Parsed condition expressions: the parser's result is its tree and the two lists of what it
    # found, its tokens come from _lex_condition_expression alone, and no condition's `expr`
    # assigns to the tree it belongs to.
    parse = _source(_ORIGINAL_CONDITION_PARSE)
    _require(
        _parameters(ConditionExpressionParser.__init__)
        == ["self", "condition_expression", "expression_attribute_names", "expression_attribute_values"]
        and _parameters(_ORIGINAL_CONDITION_PARSE) == ["self"]
        and parse.count("self.expr_attr_names_found.extend(") == 1
        and parse.count("self.expr_attr_values_found.extend(") == 1
        and "nodes = self._lex_condition_expression()" in parse
        and _parameters(_ORIGINAL_LEX) == ["self"]
        and ConditionExpressionParser.Node._fields == ("nonterminal", "kind", "text", "value", "children")
        and not _conditions_assigning_to_themselves(),
        "moto's ConditionExpressionParser (parse(self) filling expr_attr_names_found and expr_attr_values_found, "
        "its tokens from _lex_condition_expression(self)) changed, or a condition's expr() now assigns to itself",
    )

    # Action names: moto asks for a class's method names in one place, only to test membership.
    responses_source = _source(core_responses)
    _require(
        _parameters(_ORIGINAL_METHOD_NAMES) == ["clazz"]
        and responses_source.count("method_names_from_class(") == 1
        and "method_names = method_names_from_class(self.__class__)\n\n        if action in method_names:"
        in responses_source
        and responses_source.count("method_names") == 4,
        "moto.core.responses no longer uses method_names_from_class(self.__class__) only to test whether "
        "the action is a method",
    )

    # Update expression validation: moto's traversal, as read here, and the validator's copy of
    # the tree through the module's `deepcopy`.
    traverser = ast_nodes.DepthFirstTraverser
    _require(
        _parameters(_ORIGINAL_TRAVERSE) == ["self", "node", "child_id"]
        and _source(_ORIGINAL_TRAVERSE).count("self.pre_processing_of_child(node, i)") == 1
        and "isinstance(node, self.nodes_to_be_processed())" in _source(_ORIGINAL_TRAVERSE)
        and "return tuple(k for k in self._processing_map().keys())" in _source(traverser.nodes_to_be_processed)
        and "for class_key, processor in self._processing_map().items():" in _source(traverser.process)
        and not any(
            name in vars(cls)
            for cls in _subclasses(traverser)
            for name in ("traverse_node_recursively", "process", "nodes_to_be_processed")
        )
        and validators.deepcopy in (copy.deepcopy, deepcopy_trees_directly)
        and set(vars(_A_NODE)) == {"type", "children", "parent"},
        "moto's DepthFirstTraverser (traverse_node_recursively(self, node, child_id) asking "
        "nodes_to_be_processed() and process() for each node, none of them overridden) or its Node "
        "(type, children, parent) changed, or its validators no longer copy trees with copy.deepcopy",
    )

    # Mock start: moto registers one CallbackResponse per URL pattern and method on every start.
    _require(
        core_models.CallbackResponse in (_ORIGINAL_CALLBACK_RESPONSE, callback_response_once)
        and _source(core_models.MockAWS._enable_patching).count("CallbackResponse(") == 2
        and "callback=botocore_stubber.process_prepared_request" in _source(core_models.MockAWS._enable_patching),
        "moto.core.models.MockAWS._enable_patching no longer registers CallbackResponse(method=..., url=..., "
        "callback=...) objects for each URL pattern",
    )


# Item snapshots for transactions.

_ORIGINAL_TRANSACT_WRITE_ITEMS = DynamoDBBackend.transact_write_items


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
        return _ORIGINAL_TRANSACT_WRITE_ITEMS(self, transact_items)
    except Exception:
        for table, hash_value, range_value, item in reversed(snapshots):
            _restore(table, hash_value, range_value, item)
        raise


def _deepcopy_except_tables(value, memo=None):
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_COPY_SKIPPING_TABLES = types.SimpleNamespace(deepcopy=_deepcopy_except_tables)


def install_item_snapshots() -> None:
    """Transactions snapshot the items they name instead of whole tables (idempotent)."""
    check_moto()
    dynamodb_models.copy = _COPY_SKIPPING_TABLES
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
_writes = 0  # bumped by every write; index partition maps older than it are rebuilt
_index_partitions: dict[tuple[int, str, str], tuple[int, dict]] = {}


def note_write() -> None:
    """A write may have moved items between index partitions: rebuild the maps on the next Query."""
    global _writes
    _writes += 1


def note_request(operation: str) -> None:
    """Every DynamoDB request, by its operation name (`PutItem`, ...), before moto handles it:
    anything but a read counts as a write (table creation and deletion included)."""
    if operation not in READS:
        note_write()


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
        for item in _items_of(table):
            key = item.attrs.get(attribute)
            if key is not None:
                partitions.setdefault(key, []).append(item)
        _index_partitions[cache_key] = (_writes, partitions)
    return partitions.get(value, [])


def _items_of(table: Table):
    """Every item of the table in no particular order: moto's all_items() sorts the whole table
    (30,000 items: about a second under the profiler), and moto sorts a query's candidates anyway."""
    for by_range in table.items.values():
        if table.range_key_attr:
            yield from by_range.values()
        else:
            yield by_range


_ORIGINAL_QUERY = Table.query
_QUERY_SIGNATURE = inspect.signature(_ORIGINAL_QUERY)


def query_one_partition(self, *args, **kwargs):
    arguments = _QUERY_SIGNATURE.bind(self, *args, **kwargs).arguments
    candidates = _partition(
        self, arguments.get("hash_key"), arguments.get("index_name"), arguments.get("hash_key_conditions")
    )
    if candidates is not None:
        self.all_items = lambda: candidates  # moto filters and sorts what this returns
    try:
        return _ORIGINAL_QUERY(self, *args, **kwargs)
    finally:
        self.__dict__.pop("all_items", None)


def install_partition_queries() -> None:
    """Queries read only the asked partition; the caller must call note_request() on every request."""
    check_moto()
    Table.query = query_one_partition


# Response key aliases.

_ALIAS_PROVIDERS = ("ExplicitAlias", "ShapeNameAlias", "NoAlias", "ShapePrefixAlias", "ClassPrefixAlias", "ModelAlias")
_ORIGINAL_POSSIBLE_KEYS = serialize.XFormedAttributePicker.get_possible_keys
_ORIGINAL_GET_VALUE = serialize.ResponseSerializer.get_value
_possible_keys: dict[tuple[str, int, int], tuple] = {}  # (name, id(shape), id(parent)) -> (shape, parent, keys)


def possible_keys_once_per_member(self, context):
    if type(context.obj) is not dict or self.alias_providers is not serialize.DEFAULT_ALIAS_PROVIDERS:
        return _ORIGINAL_POSSIBLE_KEYS(self, context)
    shape = context.shape
    parent = getattr(shape, "parent", None)  # moto sets it while walking a structure
    cached = _possible_keys.get((context.key, id(shape), id(parent)))
    # The cache holds the shape and parent, so their ids cannot be reused by other objects.
    if cached is None or cached[0] is not shape or cached[1] is not parent:
        try:  # moto's generator stops at the first name found; all of them are computed here
            cached = (shape, parent, tuple(_ORIGINAL_POSSIBLE_KEYS(self, context)))
        except Exception:  # noqa: BLE001  (a candidate moto would never have reached: its own way)
            return _ORIGINAL_POSSIBLE_KEYS(self, context)
        _possible_keys[(context.key, id(shape), id(parent))] = cached
    return cached[2]


def get_value_by_known_names(self, value, key, shape):
    """moto's picker, for a plain dict whose member's candidate names are known: the first name
    the dict holds gives the value, none gives None (a dotted name, a path, goes moto's way)."""
    picker = self._value_picker
    if (
        type(value) is not dict
        or type(picker) is not serialize.XFormedAttributePicker
        or picker.response_transformers
        or picker.alias_providers is not serialize.DEFAULT_ALIAS_PROVIDERS
    ):
        return _ORIGINAL_GET_VALUE(self, value, key, shape)
    parent = getattr(shape, "parent", None)
    cached = _possible_keys.get((key, id(shape), id(parent)))
    if cached is None or cached[0] is not shape or cached[1] is not parent:
        return _ORIGINAL_GET_VALUE(self, value, key, shape)  # the picker computes and caches them
    for name in cached[2]:
        if "." in name:
            return _ORIGINAL_GET_VALUE(self, value, key, shape)
        if name in value:
            return value[name]
    return None


def install_response_key_cache() -> None:
    """The serializer's candidate names for a dict's member are computed once per member (idempotent)."""
    check_moto()
    serialize.XFormedAttributePicker.get_possible_keys = possible_keys_once_per_member
    serialize.ResponseSerializer.get_value = get_value_by_known_names


# Parsed update expressions.

_ORIGINAL_MAKE = UpdateExpressionParser.make  # bound to the class: make(expression_str)
_parsed_once = functools.lru_cache(maxsize=4096)(_ORIGINAL_MAKE)


def install_parsed_expression_cache() -> None:
    """Each distinct UpdateExpression is parsed once (idempotent)."""
    check_moto()
    UpdateExpressionParser.make = staticmethod(_parsed_once)


# Parsed condition expressions.

_ORIGINAL_CONDITION_PARSE = ConditionExpressionParser.parse
_ORIGINAL_LEX = ConditionExpressionParser._lex_condition_expression
_CACHE_LIMIT = 4096
_conditions: dict[tuple, tuple] = {}  # (expression, names, values) -> (tree, names found, values found)
_tokens: dict[str, tuple] = {}  # expression -> its tokens


def _conditions_assigning_to_themselves() -> list[str]:
    return [
        name
        for name, cls in vars(comparisons).items()
        if inspect.isclass(cls)
        and "expr" in vars(cls)
        and re.search(r"self\.\w+(\[.*\])?\s*[-+*/|&]?=(?!=)", _source(vars(cls)["expr"]) or "self.unknown = 1")
    ]


def _source(function) -> str:
    """Its source, or "" where there is none to read (defined at run time)."""
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def _remember(cache: dict, key, value) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def lex_once(self) -> deque:
    """moto's tokens of the expression, lexed once; each parse gets tokens of its own."""
    tokens = _tokens.get(self.condition_expression)
    if tokens is None:
        tokens = tuple(_ORIGINAL_LEX(self))
        _remember(_tokens, self.condition_expression, tokens)
    return deque(token._replace(children=list(token.children)) for token in tokens)


def parse_once(self):
    """moto's tree for this expression with these names and values, parsed once."""
    try:
        key = (
            self.condition_expression,
            json.dumps(self.expression_attribute_names, sort_keys=True),
            json.dumps(self.expression_attribute_values, sort_keys=True),
        )
    except (TypeError, ValueError):  # values JSON cannot hold (bytes): moto's own way each time
        return _ORIGINAL_CONDITION_PARSE(self)
    parsed = _conditions.get(key)
    if parsed is None:
        tree = _ORIGINAL_CONDITION_PARSE(self)  # raises for an expression that does not parse
        _remember(_conditions, key, (tree, tuple(self.expr_attr_names_found), tuple(self.expr_attr_values_found)))
        return tree
    tree, names, values = parsed
    self.expr_attr_names_found.extend(names)
    self.expr_attr_values_found.extend(values)
    return tree


def install_parsed_condition_cache() -> None:
    """Each distinct condition (expression, names, values) is parsed once, each expression lexed once (idempotent)."""
    check_moto()
    ConditionExpressionParser.parse = parse_once
    ConditionExpressionParser._lex_condition_expression = lex_once


# Action names.

_ORIGINAL_METHOD_NAMES = core_responses.method_names_from_class
_method_names_once = functools.lru_cache(maxsize=None)(_ORIGINAL_METHOD_NAMES)


def install_method_name_cache() -> None:
    """Each response class's method names are listed once (idempotent)."""
    check_moto()
    core_responses.method_names_from_class = _method_names_once


# Update expression validation.

_ORIGINAL_TRAVERSE = ast_nodes.DepthFirstTraverser.traverse_node_recursively
_ATOMIC = frozenset({str, int, float, bool, bytes, type(None)})  # what deepcopy returns as it is
_node_types: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    known = _node_types.get(kind)
    if known is None:
        known = _node_types[kind] = issubclass(kind, ast_nodes.Node)
    return known


def _subclasses(cls: type) -> list[type]:
    found, stack = [], [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found


def traverse_reading_the_map_once(self, node, child_id=-1):
    """moto's depth-first traversal: the same hooks and processors, called on the same nodes in the
    same order. moto rebuilt its processing map twice per node and tested each node against it
    with isinstance on abstract classes; here the map is read once per traversal and each node
    type's processor (the first class of the map it is an instance of, as moto picks it) once."""
    processing = self._processing_map()
    classes = tuple(processing)
    chosen: dict[type, object] = {}
    pre_processing_of_child = self.pre_processing_of_child

    def visit(node, child_id):
        kind = type(node)
        if not _is_node(kind):
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                pre_processing_of_child(node, i)
                visit(child_node, i)
        processor = chosen.get(kind, chosen)
        if processor is chosen:
            processor = chosen[kind] = next((processing[c] for c in classes if issubclass(kind, c)), None)
        if processor is not None:
            node = processor(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    return visit(node, child_id)


def deepcopy_trees_directly(value, memo=None):
    """copy.deepcopy, with moto's expression tree nodes copied attribute by attribute (the same
    copy: a new object of the node's class with deep copies of its attributes, shared references
    kept shared through the memo) instead of through the pickle protocol."""
    return _copy(value, {} if memo is None else memo)


def _copy(value, memo):
    kind = type(value)
    if kind in _ATOMIC:
        return value
    done = memo.get(id(value))
    if done is not None:
        return done
    if not _is_node(kind):
        return copy.deepcopy(value, memo)
    new = object.__new__(kind)
    memo[id(value)] = new
    for name, attribute in value.__dict__.items():
        if type(attribute) is list:
            copied = memo.get(id(attribute))
            if copied is None:
                copied = memo[id(attribute)] = []
                copied.extend(_copy(item, memo) for item in attribute)
            attribute = copied
        else:
            attribute = _copy(attribute, memo)
        new.__dict__[name] = attribute
    return new


_A_NODE = ast_nodes.ExpressionAttributeName("#a")


def install_fast_validation() -> None:
    """Update expressions are validated with the traversal and tree copy above (idempotent)."""
    check_moto()
    ast_nodes.DepthFirstTraverser.traverse_node_recursively = traverse_reading_the_map_once
    validators.deepcopy = deepcopy_trees_directly


# Mock start (the tests' in-process moto).

_ORIGINAL_CALLBACK_RESPONSE = core_models.CallbackResponse
_callback_responses: dict[tuple, object] = {}


def callback_response_once(method, url, callback):
    """The CallbackResponse moto registers for this method, URL pattern and callback, built once:
    moto built about 1,300 of them on every mock start (7 ms of a test's set-up). They hold no
    state a test reads; the registry that holds them is emptied on every start and stop."""
    key = (method, url, callback)
    response = _callback_responses.get(key)
    if response is None:
        response = _callback_responses[key] = _ORIGINAL_CALLBACK_RESPONSE(method=method, url=url, callback=callback)
    return response


def install_mock_start_cache() -> None:
    """moto's mock start reuses the responses it registered before (idempotent)."""
    check_moto()
    core_models.CallbackResponse = callback_response_once
