"""The embedded server keeps DynamoDB's transaction promise (all or nothing), its queries see
every write, and it refuses to start on a moto that changed what its patches rely on."""

import subprocess
import sys

import boto3
import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.server

SET_TWO_AND_ADD_NEW = [
    {
        "Update": {
            "TableName": "rollback-check",
            "Key": {"pk": {"S": "kept"}},
            "UpdateExpression": "SET n = :two",
            "ExpressionAttributeValues": {":two": {"N": "2"}},
        }
    },
    {"Put": {"TableName": "rollback-check", "Item": {"pk": {"S": "new"}}}},
]


@pytest.fixture
def dynamodb(local_stack):
    client = boto3.client("dynamodb", endpoint_url=local_stack.dynamodb_endpoint, region_name="us-east-1")
    client.create_table(
        TableName="rollback-check",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="rollback-check", Item={"pk": {"S": "kept"}, "n": {"N": "1"}})
    yield client
    client.delete_table(TableName="rollback-check")


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb):
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                *SET_TWO_AND_ADD_NEW,
                {
                    "Put": {
                        "TableName": "rollback-check",
                        "Item": {"pk": {"S": "kept2"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert dynamodb.get_item(TableName="rollback-check", Key={"pk": {"S": "kept"}})["Item"]["n"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(TableName="rollback-check", Key={"pk": {"S": "new"}})
    assert dynamodb.scan(TableName="rollback-check")["Count"] == 1


def test_a_committed_transaction_applies_every_item(dynamodb):
    dynamodb.transact_write_items(
        TransactItems=[
            *SET_TWO_AND_ADD_NEW,
        ]
    )
    assert dynamodb.get_item(TableName="rollback-check", Key={"pk": {"S": "kept"}})["Item"]["n"] == {"N": "2"}
    assert dynamodb.scan(TableName="rollback-check")["Count"] == 2


def test_queries_see_every_write_in_the_partition_they_ask_for(local_stack):
    client = boto3.client("dynamodb", endpoint_url=local_stack.dynamodb_endpoint, region_name="us-east-1")
    client.create_table(
        TableName="query-check",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "due")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-due",
                "KeySchema": [{"AttributeName": "due", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        for pk, sk, due in (("a", "1", "d1"), ("a", "2", "d2"), ("b", "1", "d1")):
            client.put_item(TableName="query-check", Item={"pk": {"S": pk}, "sk": {"S": sk}, "due": {"S": due}})

        def by_due(due):
            items = client.query(
                TableName="query-check",
                IndexName="by-due",
                KeyConditionExpression="due = :d",
                ExpressionAttributeValues={":d": {"S": due}},
            )["Items"]
            return sorted((i["pk"]["S"], i["sk"]["S"]) for i in items)

        def partition(pk):
            items = client.query(
                TableName="query-check", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": pk}}
            )["Items"]
            return [i["sk"]["S"] for i in items]

        assert by_due("d1") == [("a", "1"), ("b", "1")] and partition("a") == ["1", "2"]
        client.update_item(
            TableName="query-check",
            Key={"pk": {"S": "b"}, "sk": {"S": "1"}},
            UpdateExpression="SET due = :d",
            ExpressionAttributeValues={":d": {"S": "d2"}},
        )
        assert by_due("d1") == [("a", "1")] and by_due("d2") == [("a", "2"), ("b", "1")]
        client.update_item(
            TableName="query-check", Key={"pk": {"S": "a"}, "sk": {"S": "2"}}, UpdateExpression="REMOVE due"
        )
        assert by_due("d2") == [("b", "1")] and partition("a") == ["1", "2"] and partition("zzz") == []
        # A transaction's and a batch's writes move items between the index's partitions too.
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "query-check",
                        "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}},
                        "UpdateExpression": "SET due = :d",
                        "ExpressionAttributeValues": {":d": {"S": "d3"}},
                    }
                }
            ]
        )
        assert by_due("d2") == [] and by_due("d3") == [("b", "1")]
        client.batch_write_item(
            RequestItems={
                "query-check": [{"PutRequest": {"Item": {"pk": {"S": "c"}, "sk": {"S": "1"}, "due": {"S": "d3"}}}}]
            }
        )
        assert by_due("d3") == [("b", "1"), ("c", "1")]
        page = client.query(
            TableName="query-check",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "a"}},
            Limit=1,
        )
        assert page["Count"] == 1 and "LastEvaluatedKey" in page
    finally:
        client.delete_table(TableName="query-check")


# The server patches moto internals; a moto upgrade that changes what they rely on must stop it
# with a clear message instead of letting it answer wrongly.

LOCAL_DYNAMODB = "scripts/local_dynamodb.py"


def run_server_check(prelude: str = "") -> subprocess.CompletedProcess:
    code = f"{prelude}\nimport runpy, sys\nsys.argv = [{LOCAL_DYNAMODB!r}, '--check']\n"
    code += f"runpy.run_path({LOCAL_DYNAMODB!r}, run_name='__main__')\n"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_moto_still_has_what_the_embedded_servers_patches_rely_on():
    checked = run_server_check()
    assert checked.returncode == 0, checked.stderr
    assert "everything the embedded server's patches rely on is there" in checked.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            "from moto.dynamodb.models import Table\n"
            "def query(self, hash_key, range_comparison, *args, **kwargs): pass\n"
            "Table.query = query",
            "Table.query has no parameter `index_name`",
        ),
        (
            "from moto.dynamodb.models import Table\ndef get_item(self, key): pass\nTable.get_item = get_item",
            "Table.get_item(self, hash_key, range_key, ...) changed its parameters",
        ),
        (
            "import moto.dynamodb.models as m, types\nm.copy = types.SimpleNamespace()",
            "moto.dynamodb.models no longer imports the `copy` module as `copy`",
        ),
        (
            "from moto.dynamodb.parsing.expressions import UpdateExpressionParser as P\n"
            "P.make = classmethod(lambda cls, expression_str, names=None: None)",
            "moto parses update expressions in other places than",
        ),
        (
            "from moto.dynamodb.comparisons import ConditionExpressionParser as P\n"
            "P.parse = lambda self, strict=True: None",
            "moto's ConditionExpressionParser (parse(self) filling expr_attr_names_found",
        ),
        (
            "import moto.core.responses as r\nr.method_names_from_class = lambda clazz, inherited=True: []",
            "moto.core.responses no longer uses method_names_from_class(self.__class__) only to test",
        ),
    ],
)
def test_a_moto_change_the_patches_rely_on_stops_the_server_with_a_clear_message(change, message):
    checked = run_server_check(change)
    assert checked.returncode == 1
    assert message in checked.stderr and "adapt or drop that patch" in checked.stderr
    assert "Traceback" not in checked.stderr
