"""The deployable artifact: `scripts/package` (`chalice package` merged with
infra/resources.yaml, the layer trimmed), checked with cfn-lint and by reading the synthesized
template and the zips."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.infra.conftest import Resolver, load_template, resources

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SITE = "python/lib/python3.12/site-packages/"
FUNCTION_ZIP_LIMIT = 1_000_000  # bytes: code deploys upload only app.py + chalicelib
TOTAL_LIMIT = 18_700_000  # bytes: function + layer, no larger than the single 18.7 MB zip before issue 10
ASYNC_EVENT_TYPES = {"SNS", "CloudWatchEvent", "Schedule", "EventBridgeRule", "S3"}


@pytest.fixture(scope="module")
def package(packaged):
    return packaged("prod")


@pytest.fixture(scope="module")
def template(package):
    return load_template(package / "sam.yaml")


@pytest.fixture(scope="module")
def functions(template):
    return resources(template, "AWS::Serverless::Function")


STAGES = ("prod", "dev")


@pytest.fixture(scope="module")
def linted(packaged) -> dict:
    """cfn-lint's findings for each stage's template, {stage: [finding]}, from one cfn-lint run
    over both (its start-up, about 2 s of CPU, is paid once). Any finding, of any level, would
    have made `cfn-lint TEMPLATE` exit non-zero on that template alone."""
    templates = {stage: str(packaged(stage) / "sam.yaml") for stage in STAGES}
    result = subprocess.run(
        [str(BIN / "cfn-lint"), "--format", "json", *templates.values()], capture_output=True, text=True, timeout=300
    )
    try:
        findings = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(f"cfn-lint exited {result.returncode}: {result.stdout}{result.stderr}") from None
    found = {stage: [f for f in findings if f["Filename"] == path] for stage, path in templates.items()}
    assert sum(map(len, found.values())) == len(findings), findings  # each finding is of one template
    assert (result.returncode == 0) == (not findings), (result.returncode, result.stderr)
    return found


@pytest.mark.parametrize("stage", STAGES)
def test_cfn_lint_passes(linted, stage):
    assert linted[stage] == [], json.dumps(linted[stage], indent=1)


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


@pytest.mark.parametrize("stage", ["prod", "dev"])
def test_every_functions_environment_names_the_stages_tables_and_queues(packaged, stage):
    template = load_template(packaged(stage) / "sam.yaml")
    resolver = Resolver(template, stage)
    assert template["Parameters"]["Stage"]["Default"] == stage  # no override needed at deploy
    tables = {resolver.ref(name) for name in resources(template, "AWS::DynamoDB::Table")}
    queues = {resolver.ref(name) for name in resources(template, "AWS::SQS::Queue")}
    functions = resources(template, "AWS::Serverless::Function")
    assert len(functions) == 9
    for name in functions:
        variables = resolver.environment(name)
        named = {k: v for k, v in variables.items() if k.endswith("_TABLE")}
        assert set(named) == {"LISTS_TABLE", "SUBSCRIBERS_TABLE", "OFFERS_TABLE"}, name
        assert set(named.values()) == tables, (name, named)
        assert {variables["SUNSET_QUEUE_URL"], variables["UNSUBSCRIBE_QUEUE_URL"]} <= queues
        assert variables["SES_CONFIGURATION_SET"] == f"offboard-{stage}-events"


def test_event_sources_point_at_resources_of_the_template(template):
    resolver = Resolver(template, "prod")
    queues = {resolver.value(q["Properties"]["QueueName"]) for q in resources(template, "AWS::SQS::Queue").values()}
    topics = {resolver.value(t["Properties"]["TopicName"]) for t in resources(template, "AWS::SNS::Topic").values()}
    for function in resources(template, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                assert event["Properties"]["Queue"]["Fn::Sub"].rsplit(":", 1)[1] in queues
            if event["Type"] == "SNS":
                assert event["Properties"]["Topic"]["Fn::Sub"].rsplit(":", 1)[1] in topics


def test_work_queues_have_dead_letter_queues_and_alarms(template):
    queues = resources(template, "AWS::SQS::Queue")
    for name in ("SunsetQueue", "UnsubscribeQueue", "CancelWebhookQueue"):
        target, attribute = queues[name]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"]
        assert target in queues and target.endswith("DeadLetters") and attribute == "Arn"
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert {
        "Api5xxAlarm",
        "SubscribersThrottleAlarm",
        "UnsubscribeDeadLettersAlarm",
        "SunsetDeadLettersAlarm",
        "SunsetJobErrorsAlarm",
        "CancelWebhookDeadLettersAlarm",
    } <= set(alarms)


def test_the_admin_api_is_behind_iam_and_public_routes_are_not(template):
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, item in paths.items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "delete"):
                continue
            behind_iam = operation.get("security") == [{"sigv4": []}]
            assert behind_iam == (path.startswith("/v1/") and path != "/v1/engagement"), (path, method)
    # A browser opens report pages by a signed link (core.http.check_page_link): no IAM there.
    assert {"/reports/leaving", "/reports/sunset", "/reports/sites/{site_key}/campaigns/{campaign_id}"} <= set(paths)


def test_api_gateway_passes_a_message_to_the_preflight_byte_for_byte(template):
    """Without message/rfc822 among the binary media types API Gateway hands the body over as
    UTF-8 text, and an 8-bit message no longer matches its DKIM body hash."""
    body = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
    assert "message/rfc822" in body["x-amazon-apigateway-binary-media-types"]


# Part 2: nothing lost on asynchronous paths.


def _async_functions(functions) -> set[str]:
    return {
        name
        for name, f in functions.items()
        if any(e["Type"] in ASYNC_EVENT_TYPES for e in f["Properties"].get("Events", {}).values())
    }


def test_every_asynchronously_invoked_function_keeps_its_failures_in_an_encrypted_queue(template, functions):
    assert _async_functions(functions) == {
        "SesEventFromSns",
        "SesEventFromEventbridge",
        "DailySunsetRun",
        "MailtoUnsubscribe",
        "SmsKeyword",
    }
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in resources(template, "AWS::Lambda::EventInvokeConfig").values()
    }
    queues = resources(template, "AWS::SQS::Queue")
    for name in _async_functions(functions):
        config = configs[name]
        assert config["Qualifier"] == "$LATEST" and config["MaximumRetryAttempts"] <= 2, name
        target, attribute = config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"]
        assert target in queues and attribute == "Arn", name
        assert queues[target]["Properties"]["MessageRetentionPeriod"] == 1209600  # 14 days to notice and redrive


def _dead_letter_queues(template) -> set[str]:
    queues = resources(template, "AWS::SQS::Queue")
    dead = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    for config in resources(template, "AWS::Lambda::EventInvokeConfig").values():
        for destination in config["Properties"]["DestinationConfig"].values():
            dead.add(destination["Destination"]["Fn::GetAtt"][0])
    for function in resources(template, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            target = event["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn")
            target = target or event["Properties"].get("DeadLetterConfig", {}).get("Arn")
            if target:
                dead.add(target["Fn::GetAtt"][0])
    return dead


def _metrics(alarm) -> list[tuple[str, str, list]]:
    """(namespace, metric, dimensions) of an alarm, metric math included."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return [(properties["Namespace"], properties["MetricName"], properties.get("Dimensions", []))]
    return [
        (
            m["MetricStat"]["Metric"]["Namespace"],
            m["MetricStat"]["Metric"]["MetricName"],
            m["MetricStat"]["Metric"]["Dimensions"],
        )
        for m in properties["Metrics"]
        if "MetricStat" in m
    ]


def _alarmed(template, namespace: str, metric: str) -> list:
    """The dimension values alarmed on for a metric (each alarm notifies the alarm topic)."""
    values = []
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        for ns, m, dimensions in _metrics(alarm):
            if (ns, m) == (namespace, metric):
                values += [d["Value"] for d in dimensions]
    return values


def test_every_dead_letter_queue_has_a_depth_alarm(template):
    dead = _dead_letter_queues(template)
    assert len(dead) == 12  # 3 work queues, 5 on-failure queues, 3 SNS subscriptions, 1 EventBridge target
    alarmed = _alarmed(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    for queue in dead:
        assert {"Fn::GetAtt": [queue, "QueueName"]} in alarmed, queue


def test_every_function_has_an_errors_alarm_and_async_ones_a_destination_failure_alarm(template, functions):
    errors = _alarmed(template, "AWS/Lambda", "Errors")
    for name in functions:
        assert {"Ref": name} in errors, name
    undelivered = _alarmed(template, "AWS/Lambda", "DestinationDeliveryFailures")
    for name in _async_functions(functions):
        assert {"Ref": name} in undelivered, name


# Part 3: the infrastructure does what it says.


def test_active_tracing_applies_to_every_function(template, functions):
    assert template.get("Globals", {}).get("Function", {}).get("Tracing") in (None, "Active")
    for name, function in functions.items():
        assert function["Properties"]["Tracing"] == "Active", name  # a function's own setting wins over Globals


def test_every_function_logs_to_a_group_with_a_retention(template, functions):
    groups = {
        g["Properties"]["LogGroupName"]["Fn::Sub"]: g["Properties"]
        for g in resources(template, "AWS::Logs::LogGroup").values()
    }
    for name in functions:
        group = groups[f"/aws/lambda/${{{name}}}"]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
    assert template["Parameters"]["LogRetentionDays"]["Default"] in (30, 60, 90, 180, 365)


def test_api_gateway_writes_access_logs_without_tokens(template):
    api = template["Resources"]["RestAPI"]
    setting = api["Properties"]["AccessLogSetting"]
    [group] = setting["DestinationArn"]["Fn::GetAtt"][:1]
    assert template["Resources"][group]["Type"] == "AWS::Logs::LogGroup"
    assert template["Resources"][group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert "$context.requestId" in setting["Format"] and "$context.resourcePath" in setting["Format"]
    # The path holds the unsubscribe token (a credential); the IP and user agent are personal data.
    assert not re.search(r"\$context\.(path|identity\.sourceIp|identity\.userAgent)\b", setting["Format"])
    # API Gateway writes through the account's CloudWatch role, set before the stage exists.
    assert "ApiGatewayAccount" in api["DependsOn"]
    assert template["Resources"]["ApiGatewayAccount"]["Properties"]["CloudWatchRoleArn"] == {
        "Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]
    }


def test_topics_and_queues_are_encrypted_and_publishers_may_use_the_key(template):
    for name, queue in resources(template, "AWS::SQS::Queue").items():
        properties = queue["Properties"]
        assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties, name
    keys = resources(template, "AWS::KMS::Key")
    for name, topic in resources(template, "AWS::SNS::Topic").items():
        key = topic["Properties"]["KmsMasterKeyId"]
        assert key["Ref"] in keys, name  # a key of ours: an AWS managed key cannot admit SES or CloudWatch
    for key in keys.values():
        assert key["Properties"]["EnableKeyRotation"] is True
        allowed = {
            service
            for statement in key["Properties"]["KeyPolicy"]["Statement"]
            for service in _listed(statement["Principal"].get("Service", []))
            if {"kms:GenerateDataKey*", "kms:Decrypt"} <= set(_listed(statement["Action"]))
        }
        assert {"ses.amazonaws.com", "cloudwatch.amazonaws.com"} <= allowed


def _listed(value):
    return value if isinstance(value, list) else [value]


def _references(value) -> set[str]:
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return {value["Ref"]}
        if set(value) == {"Fn::GetAtt"}:
            return {value["Fn::GetAtt"][0]}
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def test_event_sources_exist_before_the_functions_that_read_them(template, functions):
    """Chalice names event sources by ARN strings, which CloudFormation does not order by: the
    function must depend on the source (DependsOn, or a Ref in its properties or in Globals)."""
    resolver = Resolver(template, "prod")
    by_name = {}
    for logical, resource in template["Resources"].items():
        name = resource.get("Properties", {}).get("QueueName") or resource.get("Properties", {}).get("TopicName")
        if name is not None:
            by_name[resolver.value(name)] = logical
    shared = _references(template.get("Globals", {}))
    for name, function in functions.items():
        depends = set(_listed(function.get("DependsOn", []))) | _references(function["Properties"]) | shared
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] in ("SQS", "SNS"):
                arn = (event["Properties"].get("Queue") or event["Properties"]["Topic"])["Fn::Sub"]
                assert by_name[arn.rsplit(":", 1)[1]] in depends, (name, arn)


# Part 4: a lean, consistent package.


def _names(archive: Path) -> list[str]:
    return zipfile.ZipFile(archive).namelist()


def test_only_the_app_and_chalicelib_ship_in_the_function_zip(package):
    names = _names(package / "deployment.zip")
    ours = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "chalicelib").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    shipped = {n for n in names if n == "app.py" or n.startswith("chalicelib/")}
    assert shipped == ours | {"app.py"}
    assert "chalicelib/offers/static/snippet.js" in shipped and "chalicelib/core/templates/choose.html" in shipped
    # Besides ours, only Chalice's own runtime module (chalice/app.py) goes with the code.
    assert {n.split("/")[0] for n in names if not n.endswith("/")} <= {"app.py", "chalicelib", "chalice"}
    assert not any(n.startswith(("chalice/test.py", "chalice/cli")) for n in names)
    assert (package / "deployment.zip").stat().st_size <= FUNCTION_ZIP_LIMIT


def test_the_dependencies_are_one_layer_every_function_uses(template, functions, package):
    [layer] = resources(template, "AWS::Serverless::LayerVersion")
    for name, function in functions.items():
        assert function["Properties"]["Layers"][0] == {"Ref": layer}, name
    names = _names(package / "layer-deployment.zip")
    assert all(n.startswith("python/") for n in names)
    size = (package / "deployment.zip").stat().st_size + (package / "layer-deployment.zip").stat().st_size
    assert size <= TOTAL_LIMIT, size
    assert not any(n.startswith(SITE + p) for n in names for p in ("moto/", "pytest/", "playwright/", "chalice/"))


def test_boto3_and_botocore_come_from_the_same_place_at_the_tested_versions(package):
    layer = _names(package / "layer-deployment.zip")
    code = _names(package / "deployment.zip")
    for sdk in ("boto3", "botocore"):
        assert not any(n.startswith(f"{sdk}/") for n in code), sdk
        assert any(n.startswith(f"{SITE}{sdk}/") for n in layer), f"{sdk} is not in the layer"
        tested = importlib.metadata.version(sdk)
        assert f"{SITE}{sdk}-{tested}.dist-info/METADATA" in layer, f"{sdk} in the layer is not {tested}"
    pins = (ROOT / "requirements.txt").read_text()
    assert f"boto3=={importlib.metadata.version('boto3')}" in pins
    assert f"botocore=={importlib.metadata.version('botocore')}" in pins


def test_the_packaged_handlers_import_from_the_package_alone(unpacked, functions, tmp_path):
    """As in Lambda: /var/task (the function zip), then the layer; no venv (`python -S`)."""
    task, opt = unpacked
    handlers = sorted({f["Properties"]["Handler"].rsplit(".", 1)[0] for f in functions.values()})
    services = [
        s.strip()
        for s in (ROOT / "infra" / "sdk-services.txt").read_text().splitlines()
        if s.strip() and not s.startswith("#")
    ]
    code = (
        "import importlib, boto3, botocore\n"
        f"for module in {handlers!r}: importlib.import_module(module)\n"
        f"for service in {services!r}: boto3.client(service)\n"
        "import aws_xray_sdk.core\n"
        f"assert botocore.__file__.startswith({str(opt)!r}) and boto3.__file__.startswith({str(opt)!r})\n"
        "print('ok')\n"
    )
    environment = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": f"{task}:{opt}/{SITE}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "OFFBOARD_STAGE": "prod",
        "POWERTOOLS_METRICS_NAMESPACE": "Offboard/prod",
        "POWERTOOLS_SERVICE_NAME": "offboard-api",
        "OFFBOARD_TRACING": "on",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]
