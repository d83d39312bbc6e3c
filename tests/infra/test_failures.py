"""Nothing is lost on the asynchronous paths (issue 10, part 2), on moto with the packaged
template's own settings:

- an SQS worker's poison message lands in the queue's DLQ after `maxReceiveCount` receives
  (moto applies the RedrivePolicy), while the good message next to it is applied;
- an SES event whose storage fails is retried as Lambda retries an asynchronous invocation
  (`MaximumRetryAttempts` of its EventInvokeConfig) and then lands in the function's on-failure
  queue as Lambda's invocation record; `tools.cli redrive-async` re-invokes it once fixed;
- within one delivery, malformed records are counted and skipped, good ones applied, and a
  storage failure raises only after the others are done (chalicelib/sunset/engagement.py).

Lambda itself is simulated here (its documented retry counts and record format); the wiring
it would follow is read from the packaged template.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import boto3
import pytest
from chalice.test import Client

from chalicelib.core.ids import subscriber_id_for
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext
from chalicelib.sunset import engagement
from tests.helpers import join, record, sns_message
from tests.infra.conftest import ACCOUNT, REGION, Resolver, load_template, resources

JOINED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def deployed(packaged):
    template = load_template(packaged("prod") / "sam.yaml")
    return template, Resolver(template, "prod")


@pytest.fixture
def app_client():
    from app import app

    with Client(app) as client:
        yield client


@pytest.fixture
def sqs(aws):
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def people(aws, settings):
    lists.create_list("newsletter", "Newsletter")
    sids = []
    # The second is the address the SES fixtures' complaint names.
    for address in ("good@example.com", "recipient@example.com"):
        sid = subscriber_id_for(settings.subscriber_id_key, address)
        join(sid, address, "newsletter", AuditContext("api"), JOINED)
        sids.append(sid)
    return sids


def create_queue(sqs, resolver: Resolver, logical) -> str:
    """The queue as the template declares it (name, redrive policy onto its DLQ)."""
    properties = resolver.template["Resources"][logical]["Properties"]
    attributes = {}
    if "RedrivePolicy" in properties:
        policy = properties["RedrivePolicy"]
        target = create_queue(sqs, resolver, policy["deadLetterTargetArn"]["Fn::GetAtt"][0])
        arn = sqs.get_queue_attributes(QueueUrl=target, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes["RedrivePolicy"] = json.dumps(
            {"deadLetterTargetArn": arn, "maxReceiveCount": str(policy["maxReceiveCount"])}
        )
    return sqs.create_queue(QueueName=resolver.value(properties["QueueName"]), Attributes=attributes)["QueueUrl"]


def drain(sqs, url: str) -> list[dict]:
    out = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages"):
        out += batch
    return out


# SQS workers: the queue's redrive policy.


def test_a_poison_message_lands_in_the_dlq_and_the_good_one_next_to_it_is_applied(
    deployed, sqs, people, app_client, monkeypatch
):
    from chalicelib.unsubscribe import deferred

    template, resolver = deployed
    [worker] = [
        name
        for name, f in resources(template, "AWS::Serverless::Function").items()
        if f["Properties"]["Handler"].endswith(".deferred_unsubscribe")
    ]
    [event_source] = template["Resources"][worker]["Properties"]["Events"].values()
    queue_logical = next(
        name
        for name, q in resources(template, "AWS::SQS::Queue").items()
        if event_source["Properties"]["Queue"]["Fn::Sub"].endswith(":" + resolver.value(q["Properties"]["QueueName"]))
    )
    url = create_queue(sqs, resolver, queue_logical)
    redrive = template["Resources"][queue_logical]["Properties"]["RedrivePolicy"]
    dlq = sqs.get_queue_url(QueueName=resolver.get_att(redrive["deadLetterTargetArn"]["Fn::GetAtt"][0], "QueueName"))[
        "QueueUrl"
    ]

    good, _ = people
    monkeypatch.setenv("UNSUBSCRIBE_QUEUE_URL", url)
    from chalicelib.core.settings import forget_settings

    forget_settings()
    assert deferred.defer(good, "newsletter", AuditContext("one_click"), datetime.now(UTC))
    poison = json.dumps({"subscriber_id": "s-unknown", "list_id": "newsletter"})  # no "at", no "context"
    sqs.send_message(QueueUrl=url, MessageBody=poison)

    # Lambda's poller, one message a batch as the template says: a failed batch is not deleted
    # and comes back (at once here: visibility 0).
    assert event_source["Properties"]["BatchSize"] == 1
    failures = 0
    for _ in range(int(redrive["maxReceiveCount"]) * 2 + 5):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=0).get("Messages")
        if not messages:
            break
        event = app_client.events.generate_sqs_event([messages[0]["Body"]], queue_name="offboard-prod-unsubscribes")
        try:
            app_client.lambda_.invoke("deferred_unsubscribe", event)
        except Exception:  # noqa: BLE001  (what Lambda sees: the batch failed)
            failures += 1
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])

    assert subscribers.get_subscription(good, "newsletter").status == "unsubscribed"
    assert failures == int(redrive["maxReceiveCount"])
    assert drain(sqs, url) == []
    assert [m["Body"] for m in drain(sqs, dlq)] == [poison]  # kept as it was: replay-queue can send it back


# Asynchronous invocations: retries, then the on-failure destination.


def invoke_async(invoke, event: dict, config: dict, sqs, destination_url: str, function_arn: str) -> int:
    """Lambda's asynchronous invocation: 1 + MaximumRetryAttempts tries, then the invocation
    record (the event under requestPayload) goes to the on-failure destination. Returns the tries."""
    tries = 1 + int(config["MaximumRetryAttempts"])
    for attempt in range(1, tries + 1):
        try:
            invoke(event)
            return attempt
        except Exception as error:  # noqa: BLE001
            last = error
    sqs.send_message(
        QueueUrl=destination_url,
        MessageBody=json.dumps(
            {
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(),
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": f"{function_arn}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": tries,
                },
                "requestPayload": event,
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                "responsePayload": {"errorMessage": str(last), "errorType": type(last).__name__},
            }
        ),
    )
    return tries


class LambdaInProcess:
    """What `redrive-async` asks of Lambda, answered by running the handler here."""

    def __init__(self, client, handlers: dict[str, str]):
        self.client, self.handlers, self.invoked = client, handlers, []

    def invoke(self, FunctionName, InvocationType, Payload):  # noqa: N803  (boto3's names)
        assert InvocationType == "Event"
        self.invoked.append(FunctionName)
        self.client.lambda_.invoke(self.handlers[FunctionName], json.loads(Payload))
        return {"StatusCode": 202}


def test_an_ses_event_that_cannot_be_stored_is_retried_then_kept_and_redriven(
    deployed, sqs, people, app_client, monkeypatch
):
    import tools.cli.failures

    template, resolver = deployed
    [(config_name, config)] = [
        (n, c)
        for n, c in resources(template, "AWS::Lambda::EventInvokeConfig").items()
        if c["Properties"]["FunctionName"] == {"Ref": "SesEventFromSns"}
    ]
    config = config["Properties"]
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    failed_url = create_queue(sqs, resolver, destination)
    function = resolver.function_name("SesEventFromSns")
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}"

    _, victim = people
    real_apply, broken = engagement.apply, {"on": True}

    def apply(fact, now):
        if broken["on"] and fact.kind == "complaint":
            raise RuntimeError("DynamoDB is down")
        return real_apply(fact, now)

    monkeypatch.setattr(engagement, "apply", apply)
    event = app_client.events.generate_sns_event(message=sns_message("complaint", victim))
    tries = invoke_async(
        lambda e: app_client.lambda_.invoke("ses_event_from_sns", e), event, config, sqs, failed_url, arn
    )
    assert tries == 3, config_name  # the first try and two retries
    assert subscribers.get_subscription(victim, "newsletter").status == "active"
    [kept] = drain(sqs, failed_url)
    body = json.loads(kept["Body"])
    assert body["requestPayload"] == event and body["requestContext"]["condition"] == "RetriesExhausted"
    sqs.change_message_visibility(QueueUrl=failed_url, ReceiptHandle=kept["ReceiptHandle"], VisibilityTimeout=0)

    broken["on"] = False  # the cause is fixed; the operator redrives
    fake = LambdaInProcess(app_client, {function: "ses_event_from_sns"})
    monkeypatch.setattr(tools.cli.failures, "_lambda_client", lambda: fake)
    assert tools.cli.main(["redrive-async", function, failed_url]) == 0
    assert fake.invoked == [function]
    assert subscribers.get_subscription(victim, "newsletter").status == "unsubscribed"
    assert drain(sqs, failed_url) == []


def test_redrive_leaves_records_of_another_function_alone(deployed, sqs, monkeypatch):
    import tools.cli.failures

    _, resolver = deployed
    url = create_queue(sqs, resolver, "DailySunsetRunFailures")
    other = {"requestContext": {"functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:someone-else:$LATEST"}}
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({**other, "requestPayload": {}}))
    fake = LambdaInProcess(None, {})
    monkeypatch.setattr(tools.cli.failures, "_lambda_client", lambda: fake)
    assert tools.cli.main(["redrive-async", "offboard-prod-DailySunsetRun-X", url]) == 0
    assert fake.invoked == []
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"]) == 1
    )


def test_in_one_delivery_malformed_records_are_skipped_good_ones_applied_and_a_storage_failure_raises_last(
    people, monkeypatch
):
    good, victim = people
    real_apply = engagement.apply
    seen = []

    def apply(fact, now):
        seen.append(fact.kind)
        if fact.kind == "complaint":
            raise RuntimeError("DynamoDB is down")
        return real_apply(fact, now)

    monkeypatch.setattr(engagement, "apply", apply)
    batch = [record("complaint", victim), {"eventType": "Click"}, record("click", good)]
    with pytest.raises(RuntimeError, match="DynamoDB is down"):
        engagement.ingest(batch, now=datetime(2026, 11, 22, tzinfo=UTC))
    assert seen == ["complaint", "engaged"]  # the failure first, then the rest was still tried
    assert subscribers.get_subscription(good, "newsletter").last_engaged_at is not None
    assert subscribers.get_subscription(victim, "newsletter").status == "active"

    monkeypatch.setattr(engagement, "apply", real_apply)  # the retry (or the redrive) of the same delivery
    outcomes = engagement.ingest(batch, now=datetime(2026, 11, 22, tzinfo=UTC))
    assert outcomes["malformed"] == 1 and outcomes["complaint"] == 1 and "engaged" not in outcomes
    assert subscribers.get_subscription(victim, "newsletter").status == "unsubscribed"


# The calls only a deployed stage makes (its configuration set, the sunset queue), made here with
# the stage's variables so the permission test (tests/infra/test_permissions.py) sees them.


def test_the_deployed_stage_sends_through_its_configuration_set_and_queues_sunset_steps(aws, sqs, people, monkeypatch):
    from chalicelib.core.settings import forget_settings
    from chalicelib.sunset import job
    from chalicelib.sunset.email import send_reminder

    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain="offboard.example")
    boto3.client("sesv2", region_name=REGION).create_configuration_set(ConfigurationSetName="offboard-prod-events")
    queue = sqs.create_queue(QueueName="offboard-prod-sunset")["QueueUrl"]
    monkeypatch.setenv("SES_CONFIGURATION_SET", "offboard-prod-events")
    monkeypatch.setenv("SUNSET_QUEUE_URL", queue)
    forget_settings()

    good, _ = people
    send_reminder(job.Reminder(good, "good@example.com", ("newsletter",)))
    job.enqueue([{"run_id": "r", "shard": 0}])
    assert [json.loads(m["Body"]) for m in drain(sqs, queue)] == [{"run_id": "r", "shard": 0}]
