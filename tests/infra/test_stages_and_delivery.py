"""Issue 17, part 4, in the packaged templates: dev and prod share an account without sharing a
queue, topic, configuration set or API; what SNS or EventBridge cannot hand to a function waits in
a dead-letter queue of the subscription or target itself; the SES rule takes email events only."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import moto
import pytest

from tests.infra.conftest import REGION, ROOT, Resolver, load_template, resources

NAMED = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SES::ConfigurationSet": "Name",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SES::ReceiptRuleSet": "RuleSetName",
}
# SES's email events on EventBridge (one per eventType of FACTS.md) and two of its other events.
EMAIL_EVENTS = (
    "Email Sent",
    "Email Delivered",
    "Email Opened",
    "Email Clicked",
    "Email Bounced",
    "Email Complaint Received",
    "Email Rejected",
    "Email Rendering Failed",
    "Email Delivery Delayed",
    "Email Subscribed",
)
OTHER_SES_EVENTS = ("Sending Status Disabled", "Advisor Recommendation Status Open")


@pytest.fixture(scope="module")
def stages(packaged):
    return {stage: Resolver(load_template(packaged(stage) / "sam.yaml"), stage) for stage in ("dev", "prod")}


def account_wide_names(resolver: Resolver) -> set[str]:
    """Names that must be unique in an account and region, as CloudFormation would create them."""
    names = set()
    for kind, attribute in NAMED.items():
        for resource in resources(resolver.template, kind).values():
            names.add(f"{kind}:{resolver.value(resource['Properties'][attribute])}")
    api = resolver.template["Resources"]["RestAPI"]["Properties"]
    names.add(f"api:{resolver.value(api['Name'])}")
    return names


def test_every_name_carries_the_stage_and_the_stages_share_none(stages):
    named = {stage: account_wide_names(resolver) for stage, resolver in stages.items()}
    for stage, names in named.items():
        assert len(names) > 20
        assert all(
            name.rsplit(":", 1)[1].startswith(f"offboard-{stage}-") or name == f"api:offboard-{stage}" for name in names
        ), names
    assert not named["dev"] & named["prod"]


def test_each_stages_functions_subscribe_to_that_stages_queues_and_topics(stages):
    for stage, resolver in stages.items():
        for name, function in resources(resolver.template, "AWS::Serverless::Function").items():
            for event in function["Properties"].get("Events", {}).values():
                source = event["Properties"].get("Queue") or event["Properties"].get("Topic")
                if source:
                    assert source["Fn::Sub"].rsplit(":", 1)[1].startswith(f"offboard-{stage}-"), (stage, name)
            environment = resolver.environment(name)
            for variable in ("SUNSET_QUEUE_URL", "UNSUBSCRIBE_QUEUE_URL", "SES_CONFIGURATION_SET"):
                assert environment[variable].rsplit("/", 1)[-1].startswith(f"offboard-{stage}-"), (stage, variable)


def test_each_stages_policy_names_only_its_own_queues_and_configuration_set():
    for stage, other in (("dev", "prod"), ("prod", "dev")):
        policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text())
        arns = [arn for statement in policy["Statement"] for arn in statement["Resource"]]
        named = [arn for arn in arns if arn.startswith(("arn:aws:sqs:", "arn:aws:ses:*:*:configuration-set/"))]
        assert named and all(arn.rsplit(":", 1)[1].split("/")[-1].startswith(f"offboard-{stage}-") for arn in named)
        assert not any(f"offboard-{other}-" in arn for arn in arns)


def _target_queue(template, reference) -> str:
    [logical, attribute] = reference["Fn::GetAtt"]
    assert template["Resources"][logical]["Type"] == "AWS::SQS::Queue" and attribute == "Arn"
    return logical


def _queue_policy(template, queue: str) -> list[dict]:
    return [
        statement
        for policy in resources(template, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue} in policy["Properties"]["Queues"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_every_sns_subscription_keeps_what_it_cannot_deliver_in_its_own_queue(stages):
    template = stages["prod"].template
    subscriptions = [
        (name, event["Properties"])
        for name, function in resources(template, "AWS::Serverless::Function").items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "SNS"
    ]
    assert len(subscriptions) == 3
    topics = {stages["prod"].ref(t): t for t in resources(template, "AWS::SNS::Topic")}
    queues = set()
    for name, properties in subscriptions:
        queue = _target_queue(template, properties["RedrivePolicy"]["deadLetterTargetArn"])
        topic = topics[stages["prod"].value(properties["Topic"])]
        [statement] = _queue_policy(template, queue)
        # SNS may write to it, for this topic only.
        assert statement["Principal"] == {"Service": "sns.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": topic}}}, name
        queues.add(queue)
    assert len(queues) == 3  # one per subscription: a redrive goes back to one function


def test_the_eventbridge_target_keeps_what_it_cannot_deliver_in_its_own_queue(stages):
    template = stages["prod"].template
    [event] = [
        e
        for f in resources(template, "AWS::Serverless::Function").values()
        for e in f["Properties"].get("Events", {}).values()
        if e["Type"] in ("EventBridgeRule", "CloudWatchEvent")
    ]
    # SAM's CloudWatchEvent has no DeadLetterConfig; EventBridgeRule passes it to the target.
    assert event["Type"] == "EventBridgeRule"
    queue = _target_queue(template, event["Properties"]["DeadLetterConfig"]["Arn"])
    [statement] = _queue_policy(template, queue)
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    source = stages["prod"].value(statement["Condition"]["ArnLike"]["aws:SourceArn"])
    assert source == f"arn:aws:events:{REGION}:123456789012:rule/offboard-prod-*"  # this stack's rules only
    assert event["Properties"]["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400


def test_the_ses_rule_takes_email_events_only(stages):
    """The packaged rule's pattern on moto's EventBridge: each email event reaches the target,
    SES's other events (sending paused, advisor) do not."""
    [event] = [
        e
        for f in resources(stages["prod"].template, "AWS::Serverless::Function").values()
        for e in f["Properties"].get("Events", {}).values()
        if e["Type"] == "EventBridgeRule"
    ]
    pattern = event["Properties"]["Pattern"]
    with moto.mock_aws():
        events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="target")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="ses", EventPattern=json.dumps(pattern))
        events.put_targets(Rule="ses", Targets=[{"Id": "1", "Arn": arn}])
        for kind in EMAIL_EVENTS + OTHER_SES_EVENTS:
            events.put_events(Entries=[{"Source": "aws.ses", "DetailType": kind, "Detail": "{}"}])
        events.put_events(Entries=[{"Source": "aws.other", "DetailType": "Email Sent", "Detail": "{}"}])
        delivered = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
            delivered += [json.loads(m["Body"])["detail-type"] for m in batch]
    assert sorted(delivered) == sorted(EMAIL_EVENTS)


def test_the_email_events_are_the_fixtures_kinds():
    """Every SES record kind the tests feed the handlers has its EventBridge detail type here."""
    envelope = json.loads((Path(ROOT) / "tests" / "fixtures" / "ses" / "eventbridge_envelope.json").read_text())
    assert envelope["detail-type"] in EMAIL_EVENTS
    from chalicelib.core.settings import SES_EMAIL_DETAIL_TYPES, event_sources

    assert set(SES_EMAIL_DETAIL_TYPES) == set(EMAIL_EVENTS)
    assert event_sources().ses_email_events == {"source": ["aws.ses"], "detail-type": list(SES_EMAIL_DETAIL_TYPES)}
