"""The moto patches that validate update expressions and start mocks faster (scripts/moto_patches.py)
answer exactly as moto does without them, and refuse a moto that changed what they rely on."""

from __future__ import annotations

import copy

import boto3
import moto
import moto.core.models as core_models
import moto.dynamodb.parsing.ast_nodes as ast_nodes
import moto.dynamodb.parsing.validators as validators
import pytest
import requests
from botocore.exceptions import ClientError
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from scripts import moto_patches

ITEM = {
    "n": {"N": "1"},
    "name": {"S": "Ada"},
    "tags": {"SS": ["a", "b"]},
    "seen": {"L": [{"S": "x"}, {"S": "y"}]},
    "profile": {"M": {"city": {"S": "Oslo"}, "visits": {"N": "3"}, "deep": {"M": {"k": {"S": "v"}}}}},
}
# (UpdateExpression, names, values): accepted ones of every kind, and the ones moto refuses.
UPDATES = [
    ("SET n = :v", None, {":v": {"N": "7"}}),
    ("SET n = n + :one, #nm = :name", {"#nm": "name"}, {":one": {"N": "1"}, ":name": {"S": "Grace"}}),
    ("SET counter = if_not_exists(counter, :zero) + :one", None, {":zero": {"N": "0"}, ":one": {"N": "1"}}),
    ("SET seen = list_append(seen, :more)", None, {":more": {"L": [{"S": "z"}]}}),
    ("SET seen = list_append(:more, seen)", None, {":more": {"L": [{"S": "w"}]}}),
    ("SET profile.city = :c, profile.deep.k = :k", None, {":c": {"S": "Rome"}, ":k": {"S": "w"}}),
    ("SET seen[1] = :v", None, {":v": {"S": "q"}}),
    ("REMOVE seen[0], profile.visits", None, None),
    ("REMOVE seen[0], seen[1]", None, None),
    ("ADD tags :t, n :one", None, {":t": {"SS": ["c"]}, ":one": {"N": "2"}}),
    ("DELETE tags :t", None, {":t": {"SS": ["a"]}}),
    ("SET a = :v REMOVE #nm ADD n :one", {"#nm": "name"}, {":v": {"S": "A"}, ":one": {"N": "1"}}),
    ("SET n = n - :one", None, {":one": {"N": "5"}}),
    ("SET missing.path = :v", None, {":v": {"S": "x"}}),  # refused: the document path does not exist
    ("SET n = :v, n = :w", None, {":v": {"N": "1"}, ":w": {"N": "2"}}),  # refused: two updates of one path
    ("SET pk = :v", None, {":v": {"S": "other"}}),  # refused: a key attribute
    ("SET n = :undefined", None, {":v": {"N": "1"}}),  # refused: an undefined value
    ("SET #undefined = :v", None, {":v": {"N": "1"}}),  # moto raises a KeyError
    ("SET name = :v", None, {":v": {"S": "x"}}),  # refused: a reserved word
    ("SET n = n + :s", None, {":s": {"S": "text"}}),  # refused: wrong operand type
    ("SET seen = list_append(seen, :s)", None, {":s": {"S": "text"}}),  # refused: not a list
    ("ADD name :one", None, {":one": {"N": "1"}}),  # refused: ADD on a string
]


def _answer(client, table: str, key: dict, expression: str, names, values):
    """What moto answers to one UpdateItem: the item as written, or the error (moto raises some
    of its own, such as a KeyError for an undefined name: the patched moto must raise them too)."""
    arguments = {"TableName": table, "Key": key, "UpdateExpression": expression, "ReturnValues": "ALL_NEW"}
    if names:
        arguments["ExpressionAttributeNames"] = names
    if values:
        arguments["ExpressionAttributeValues"] = values
    try:
        return ("ok", client.update_item(**arguments)["Attributes"])
    except ClientError as error:
        return ("refused", error.response["Error"]["Code"], error.response["Error"]["Message"])
    except Exception as error:  # noqa: BLE001  (moto's own failures are part of what must not change)
        return ("raised", type(error).__name__, str(error))


def _moto_unpatched(monkeypatch) -> None:
    monkeypatch.setattr(ast_nodes.DepthFirstTraverser, "traverse_node_recursively", moto_patches._ORIGINAL_TRAVERSE)
    monkeypatch.setattr(validators, "deepcopy", copy.deepcopy)


@pytest.fixture(scope="module")
def table():
    """One table for the module's cases (a client and a table cost more than a case)."""
    with moto.mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="patches",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


@pytest.mark.parametrize(("expression", "names", "values"), UPDATES)
@pytest.mark.parametrize("on", ["an existing item", "a new item"])
def test_an_update_expression_is_validated_and_applied_as_moto_does(table, monkeypatch, on, expression, names, values):
    answers = []
    for patched in (True, False):
        key = {"pk": {"S": f"{on} {expression}"}, "sk": {"S": "patched" if patched else "moto"}}
        if on == "an existing item":
            table.put_item(TableName="patches", Item={**ITEM, **key})
        with monkeypatch.context() as unpatched:
            if not patched:
                _moto_unpatched(unpatched)
            answer = _answer(table, "patches", key, expression, names, values)
        if answer[0] == "ok":
            answer = ("ok", {k: v for k, v in answer[1].items() if k not in key})
        answers.append(answer)
    assert answers[0] == answers[1]
    assert ast_nodes.DepthFirstTraverser.traverse_node_recursively is moto_patches.traverse_reading_the_map_once


def _shape(node, seen: dict) -> object:
    """A node tree as nested tuples (class, attributes), parents named by their place in the walk."""
    if not isinstance(node, ast_nodes.Node):
        return node
    seen.setdefault(id(node), len(seen))
    return (
        type(node).__name__,
        node.type,
        seen.get(id(node.parent)) if node.parent is not None else None,
        tuple(_shape(child, seen) for child in node.children or ()),
    )


def _nodes(node) -> list:
    if not isinstance(node, ast_nodes.Node):
        return []
    return [node, *(n for child in node.children or () for n in _nodes(child))]


@pytest.mark.parametrize("expression", sorted({update[0] for update in UPDATES}))
def test_a_tree_is_copied_as_deepcopy_copies_it_and_shares_no_node(expression):
    tree = UpdateExpressionParser.make(expression)
    copied = moto_patches.deepcopy_trees_directly(tree)
    assert _shape(copied, {}) == _shape(copy.deepcopy(tree), {})
    assert not {id(n) for n in _nodes(copied)} & {id(n) for n in _nodes(tree)}
    assert all(
        child.parent is node
        for node in _nodes(copied)
        for child in node.children or ()
        if isinstance(child, ast_nodes.Node)
    )


def test_mocks_started_again_still_answer_requests_made_with_requests():
    """The callbacks built once are registered again on each start: `requests` calls to AWS
    still reach moto in a second mock (and a fresh one: a stopped mock forgets its data)."""
    for _ in range(2):
        with moto.mock_aws():
            queue = requests.post(
                "https://sqs.us-east-1.amazonaws.com/",
                data={"Action": "CreateQueue", "QueueName": "again", "Version": "2012-11-05"},
                timeout=5,
            )
            listed = boto3.client("sqs", region_name="us-east-1").list_queues()
        assert queue.status_code == 200 and "again" in queue.text
        assert [url.rsplit("/", 1)[-1] for url in listed["QueueUrls"]] == ["again"]
    assert core_models.CallbackResponse is moto_patches.callback_response_once


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda mp: mp.setattr(
                validators.NoneExistingPathChecker, "process", lambda self, node: node, raising=False
            ),
            "moto's DepthFirstTraverser (traverse_node_recursively(self, node, child_id)",
        ),
        (lambda mp: mp.setattr(validators, "deepcopy", lambda value: value), "no longer copy trees with copy.deepcopy"),
        (
            lambda mp: mp.setattr(core_models, "CallbackResponse", lambda **kwargs: None),
            "MockAWS._enable_patching no longer registers CallbackResponse",
        ),
    ],
)
def test_a_moto_change_these_patches_rely_on_is_refused_with_a_clear_message(monkeypatch, change, message):
    change(monkeypatch)
    with pytest.raises(moto_patches.MotoChanged, match="adapt or drop that patch") as refused:
        moto_patches.check_moto()
    assert message in str(refused.value)
