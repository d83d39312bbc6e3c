"""The embedded server keeps DynamoDB's transaction promise: all or nothing."""

import boto3
import pytest

pytestmark = pytest.mark.server


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
                {
                    "Update": {
                        "TableName": "rollback-check",
                        "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": "rollback-check", "Item": {"pk": {"S": "new"}}}},
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
    )
    assert dynamodb.get_item(TableName="rollback-check", Key={"pk": {"S": "kept"}})["Item"]["n"] == {"N": "2"}
    assert dynamodb.scan(TableName="rollback-check")["Count"] == 2
