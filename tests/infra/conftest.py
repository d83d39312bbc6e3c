"""The deployable artifact, built once per stage per session by `scripts/package` (the same
command an operator runs), and a reader for the CloudFormation it contains."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Where the permission test pretends to deploy: docs/deploy.md's stack name, a fixed account.
REGION, ACCOUNT = "us-east-1", "123456789012"


class CloudFormationLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """YAML's safe loader with CloudFormation's short forms (`!Ref`, `!GetAtt`, `!Sub`...); libyaml's
    parser where PyYAML has it (a packaged template reads in 0.08 s of CPU against 0.32 s)."""


def _tag(loader, suffix, node):
    if isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        value = loader.construct_scalar(node)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _tag)


def load_template(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=CloudFormationLoader)


def build_package(stage: str, out: Path) -> Path:
    env = {**os.environ, "AWS_DEFAULT_REGION": REGION, "STAGE": stage, "OUT": str(out), "BOOTSTRAP": "0"}
    env.pop("DYNAMODB_ENDPOINT", None)
    result = subprocess.run(
        [str(ROOT / "scripts" / "package")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@pytest.fixture(scope="session")
def packaged(tmp_path_factory):
    """packaged(stage) -> the directory with sam.yaml, deployment.zip and layer-deployment.zip,
    built once per run even with several xdist workers (tests.helpers.built_once)."""
    from tests.helpers import built_once

    built: dict[str, Path] = {}

    def get(stage: str) -> Path:
        if stage not in built:
            # One lock for every stage: `chalice package` caches what it zips in .chalice/deployments.
            with built_once(tmp_path_factory, "package") as folder:
                if not (folder / f"{stage}.built").exists():
                    build_package(stage, folder / stage)
                    (folder / f"{stage}.built").touch()
            built[stage] = folder / stage
        return built[stage]

    return get


@pytest.fixture(scope="session")
def unpacked(packaged, tmp_path_factory) -> tuple[Path, Path]:
    """(task, opt): the prod function zip and layer extracted as Lambda lays them out (/var/task,
    /opt), once per run for every worker. The first interpreter to import from them writes their
    __pycache__ (compiled from the packaged sources), which later ones reuse."""
    from tests.helpers import built_once

    with built_once(tmp_path_factory, "unpacked") as folder:
        task, opt = folder / "task", folder / "opt"
        if not (folder / "prod.unpacked").exists():
            zipfile.ZipFile(packaged("prod") / "deployment.zip").extractall(task)
            zipfile.ZipFile(packaged("prod") / "layer-deployment.zip").extractall(opt)
            (folder / "prod.unpacked").touch()
    return task, opt


def resources(template: dict, kind: str) -> dict:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


class Resolver:
    """Values of a packaged template as CloudFormation would resolve them for a stage (stack
    `offboard-<stage>`, REGION, ACCOUNT), with the parameters given at deploy (`parameters`, as
    `--parameter-overrides`) or else their defaults."""

    def __init__(self, template: dict, stage: str, parameters: dict[str, str] | None = None):
        self.template, self.stage, self.parameters = template, stage, dict(parameters or {})
        self.stack = f"offboard-{stage}"
        self.pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack,
            "AWS::URLSuffix": "amazonaws.com",
            "Stage": stage,
        }

    def function_name(self, logical: str) -> str:
        """CloudFormation's generated name: stack, logical id, a random suffix."""
        return f"{self.stack}-{logical}-1A2B3C4D5E6F"

    def ref(self, logical: str):
        if logical in self.pseudo:
            return self.pseudo[logical]
        if logical in self.parameters:
            return self.parameters[logical]
        if logical in self.template.get("Parameters", {}):  # deployed without overriding it
            return self.template["Parameters"][logical].get("Default", "")
        resource = self.template["Resources"][logical]
        properties, kind = resource.get("Properties", {}), resource["Type"]
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.value(properties['QueueName'])}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{self.value(properties['TopicName'])}"
        if kind == "AWS::DynamoDB::Table":
            return self.value(properties["TableName"])
        if kind == "AWS::SES::ConfigurationSet":
            return self.value(properties["Name"])
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            return self.function_name(logical)
        if kind == "AWS::Logs::LogGroup":
            return self.value(properties["LogGroupName"])
        raise AssertionError(f"no Ref resolution for {kind} ({logical})")

    def get_att(self, logical: str, attribute: str):
        resource = self.template["Resources"][logical]
        kind = resource["Type"]
        if kind == "AWS::SQS::Queue":
            name = self.ref(logical).rsplit("/", 1)[1]
            return {"Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", "QueueName": name}[attribute]
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function") and attribute == "Arn":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name(logical)}"
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
            return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{self.ref(logical)}:*"
        if kind == "AWS::KMS::Key" and attribute == "Arn":
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{logical}"
        raise AssertionError(f"no GetAtt resolution for {kind}.{attribute} ({logical})")

    def value(self, value):
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and len(value) == 1:
            [(function, argument)] = value.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                return self.get_att(*argument)
            if function == "Fn::Sub":
                text, names = (argument, {}) if isinstance(argument, str) else argument
                for name, replacement in names.items():
                    text = text.replace("${" + name + "}", str(self.value(replacement)))
                while "${" in text:
                    start = text.index("${")
                    end = text.index("}", start)
                    name = text[start + 2 : end]
                    replacement = self.get_att(*name.split(".", 1)) if "." in name else self.ref(name)
                    text = text[:start] + str(replacement) + text[end + 1 :]
                return text
        raise AssertionError(f"cannot resolve {value!r}")

    def environment(self, logical: str) -> dict[str, str]:
        """A function's environment: Globals, then the function's own (as SAM merges them)."""
        shared = self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        own = self.template["Resources"][logical]["Properties"].get("Environment", {}).get("Variables", {})
        return {name: self.value(value) for name, value in {**shared, **own}.items()}


def create_stack_resources(client, resolver: Resolver) -> None:
    """What CloudFormation creates from the template, as far as the functions and `doctor` look:
    tables (with their backups and protection), queues (with their redrive policies), topics,
    the configuration set, the receipt rule set (when the stack has a mailbox) and the alarms on
    a single metric. `client(service)` builds a boto3 client."""
    template = resolver.template
    for table in resources(template, "AWS::DynamoDB::Table").values():
        properties = table["Properties"]
        name = resolver.value(properties["TableName"])
        arguments = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties["BillingMode"],
            "DeletionProtectionEnabled": properties.get("DeletionProtectionEnabled", False),
        }
        if "GlobalSecondaryIndexes" in properties:
            arguments["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        client("dynamodb").create_table(**arguments)
        if "PointInTimeRecoverySpecification" in properties:
            client("dynamodb").update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification=properties["PointInTimeRecoverySpecification"]
            )
    sqs = client("sqs")
    queues = resources(template, "AWS::SQS::Queue")
    urls = {
        logical: sqs.create_queue(QueueName=resolver.value(q["Properties"]["QueueName"]))["QueueUrl"]
        for logical, q in queues.items()
    }
    for logical, queue in queues.items():
        if "RedrivePolicy" in queue["Properties"]:
            policy = queue["Properties"]["RedrivePolicy"]
            target = resolver.value(policy["deadLetterTargetArn"])
            redrive = json.dumps({"deadLetterTargetArn": target, "maxReceiveCount": str(policy["maxReceiveCount"])})
            sqs.set_queue_attributes(QueueUrl=urls[logical], Attributes={"RedrivePolicy": redrive})
    for topic in resources(template, "AWS::SNS::Topic").values():
        client("sns").create_topic(Name=resolver.value(topic["Properties"]["TopicName"]))
    for configuration_set in resources(template, "AWS::SES::ConfigurationSet").values():
        client("sesv2").create_configuration_set(
            ConfigurationSetName=resolver.value(configuration_set["Properties"]["Name"])
        )
    if resolver.ref("UnsubscribeMailbox"):
        for rule_set in resources(template, "AWS::SES::ReceiptRuleSet").values():
            client("ses").create_receipt_rule_set(RuleSetName=resolver.value(rule_set["Properties"]["RuleSetName"]))
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        properties = alarm["Properties"]
        if "MetricName" not in properties:
            continue
        client("cloudwatch").put_metric_alarm(
            AlarmName=f"{resolver.stack}-{name}",
            Namespace=resolver.value(properties["Namespace"]),
            MetricName=properties["MetricName"],
            Dimensions=[
                {"Name": d["Name"], "Value": resolver.value(d["Value"])} for d in properties.get("Dimensions", [])
            ],
            Statistic=properties["Statistic"],
            Period=properties["Period"],
            EvaluationPeriods=properties["EvaluationPeriods"],
            Threshold=float(properties["Threshold"]),
            ComparisonOperator=properties["ComparisonOperator"],
            AlarmActions=[resolver.value(a) for a in properties["AlarmActions"]],
        )
