"""The deployable artifact: `chalice package` merged with infra/resources.yaml, checked with
cfn-lint and by reading the synthesized template."""

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class CloudFormationLoader(yaml.SafeLoader):
    pass


def _tag(loader, suffix, node):
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    if isinstance(node, yaml.MappingNode):
        return {suffix: loader.construct_mapping(node, deep=True)}
    return {suffix: loader.construct_scalar(node)}


CloudFormationLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    out = tmp_path_factory.mktemp("package") / "prod"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("DYNAMODB_ENDPOINT", None)
    subprocess.run(
        [str(BIN / "chalice"), "package", "--stage", "prod", "--merge-template", "infra/resources.yaml", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


@pytest.fixture(scope="module")
def template(package):
    return yaml.load((package / "sam.yaml").read_text(), Loader=CloudFormationLoader)


def resources(template, kind):
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_cfn_lint_passes(package):
    result = subprocess.run(
        [str(BIN / "cfn-lint"), str(package / "sam.yaml")], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_table_has_pitr_deletion_protection_and_on_demand_billing(template):
    tables = resources(template, "AWS::DynamoDB::Table")
    assert set(tables) == {"ListsTable", "SubscribersTable", "OffersTable"}
    for table in tables.values():
        properties = table["Properties"]
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert properties["DeletionProtectionEnabled"] is True and properties["BillingMode"] == "PAY_PER_REQUEST"
        assert table["DeletionPolicy"] == "Retain"


def _statements(template):
    for role in resources(template, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            yield from policy["PolicyDocument"]["Statement"]


def test_no_wildcard_actions_and_data_tables_are_named(template):
    statements = list(_statements(template))
    assert statements
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(a == "*" or a.endswith(":*") for a in actions), statement
        if any(a.startswith("dynamodb:") for a in actions):
            assert all(
                re.fullmatch(r"arn:aws:dynamodb:\*:\*:table/offboard-prod-[a-z]+(/index/[a-z-]+)?", r)
                for r in statement["Resource"]
            )


def _table_names(template):
    names = set()
    for table in resources(template, "AWS::DynamoDB::Table").values():
        name = table["Properties"]["TableName"]
        names.add(name["Fn::Sub"].replace("${Stage}", "prod") if isinstance(name, dict) else name)
    return names


def test_every_functions_environment_names_real_tables_and_queues(template):
    tables, functions = _table_names(template), resources(template, "AWS::Serverless::Function")
    assert len(functions) == 6
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        named = {k: v for k, v in variables.items() if k.endswith("_TABLE")}
        assert set(named) == {"LISTS_TABLE", "SUBSCRIBERS_TABLE", "OFFERS_TABLE"}, name
        assert set(named.values()) <= tables, (name, named)
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    for variable in ("SUNSET_QUEUE_URL", "UNSUBSCRIBE_QUEUE_URL", "SES_CONFIGURATION_SET"):
        assert shared[variable]["Ref"] in template["Resources"]


def test_event_sources_point_at_resources_of_the_template(template):
    queues = {q["Properties"]["QueueName"] for q in resources(template, "AWS::SQS::Queue").values()}
    topics = {t["Properties"]["TopicName"] for t in resources(template, "AWS::SNS::Topic").values()}
    for function in resources(template, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                assert event["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[1] in queues
            if event["Type"] == "SNS":
                assert event["Properties"]["Topic"]["Fn::Sub"].rsplit(":", 1)[1] in topics


def test_work_queues_have_dead_letter_queues_and_alarms(template):
    queues = resources(template, "AWS::SQS::Queue")
    for name in ("SunsetQueue", "UnsubscribeQueue"):
        target, attribute = queues[name]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"]
        assert target in queues and target.endswith("DeadLetters") and attribute == "Arn"
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert {
        "Api5xxAlarm",
        "SubscribersThrottleAlarm",
        "UnsubscribeDeadLettersAlarm",
        "SunsetDeadLettersAlarm",
        "SunsetJobErrorsAlarm",
    } <= set(alarms)


def test_only_the_app_and_chalicelib_ship(package):
    names = zipfile.ZipFile(package / "deployment.zip").namelist()
    ours = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "chalicelib").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    shipped = {n for n in names if n == "app.py" or n.startswith("chalicelib/")}
    assert shipped == ours | {"app.py"}
    assert "chalicelib/offers/static/snippet.js" in shipped and "chalicelib/core/templates/choose.html" in shipped
    # The operator CLI and the demo data stay on the operator's machine.
    assert not any(n.startswith(("tools/", "tests/", "bench/", "scripts/", "chalice/test.py")) for n in names)
    assert not any(n.startswith(("moto/", "pytest/", "playwright/")) for n in names)


def test_the_admin_api_is_behind_iam_and_public_routes_are_not(template):
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "delete"):
                continue
            behind_iam = operation.get("security") == [{"sigv4": []}]
            assert behind_iam == (path.startswith("/v1/") and path != "/v1/engagement"), (path, method)
