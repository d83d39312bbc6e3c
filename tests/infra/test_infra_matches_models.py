"""The tables in infra/ have the key schemas the PynamoDB models use."""

from pathlib import Path

import yaml

from chalicelib.storage.lists import MailingList
from chalicelib.storage.offers import Site
from chalicelib.storage.subscribers import Profile, Subscription

ROOT = Path(__file__).resolve().parents[2]


class CloudFormationLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where there is one
    pass


CloudFormationLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def key_schema(model) -> list[tuple[str, str]]:
    keys = [(name, "HASH") for name, a in model.get_attributes().items() if a.is_hash_key]
    return keys + [(name, "RANGE") for name, a in model.get_attributes().items() if a.is_range_key]


def test_table_keys_match_the_models_and_data_is_protected():
    template = yaml.load((ROOT / "infra" / "resources.yaml").read_text(), Loader=CloudFormationLoader)
    tables = {
        name: r["Properties"] for name, r in template["Resources"].items() if r.get("Type") == "AWS::DynamoDB::Table"
    }
    for resource, model in (("ListsTable", MailingList), ("SubscribersTable", Profile), ("OffersTable", Site)):
        properties = tables[resource]
        assert [(k["AttributeName"], k["KeyType"]) for k in properties["KeySchema"]] == key_schema(model)
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert properties["DeletionProtectionEnabled"] is True


def test_tables_expire_items_on_the_models_ttl_attribute():
    template = yaml.load((ROOT / "infra" / "resources.yaml").read_text(), Loader=CloudFormationLoader)
    for resource, model in (("OffersTable", Site), ("SubscribersTable", Subscription)):
        ttl = template["Resources"][resource]["Properties"]["TimeToLiveSpecification"]
        assert ttl == {"AttributeName": "ttl", "Enabled": True} and "ttl" in model.get_attributes()


def test_the_sunset_index_matches_the_model():
    template = yaml.load((ROOT / "infra" / "resources.yaml").read_text(), Loader=CloudFormationLoader)
    [index] = template["Resources"]["SubscribersTable"]["Properties"]["GlobalSecondaryIndexes"]
    model_index = Subscription.sunset_index
    assert index["IndexName"] == model_index.Meta.index_name
    expected = [(name, "HASH" if a.is_hash_key else "RANGE") for name, a in model_index.Meta.attributes.items()]
    assert sorted((k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]) == sorted(expected)
    assert index["Projection"] == {"ProjectionType": "ALL"}
