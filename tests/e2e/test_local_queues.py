"""The SQS fallback, for real and locally: a stack of its own (embedded DynamoDB server, embedded
SQS server, `chalice local`, the queue worker), the DynamoDB server stopped with SIGSTOP.

While DynamoDB stalls, a one-click POST is retried within the clients' budget (1 s connect, a
read timeout, retried; the read timeout is 3 s in production and 1 s in this stack, through
`OFFBOARD_AWS_READ_TIMEOUT_SECONDS`, so the test waits seconds for the budget to run out, not
tens), then queued on the SQS server (which does not stall with it) and answered 202.
Once DynamoDB is back, the worker hands each queued message to the `deferred_unsubscribe`
handler, which stores it with the time it was asked for. A message that keeps failing ends in
the dead-letter queue through the queue's redrive policy, as in AWS; the sunset job runs
through its queue too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import boto3
import pytest
import requests

from tests.helpers import ROOT, LocalStack, subscriber_of

pytestmark = pytest.mark.server

GMAIL = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Gmail one-click"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = LocalStack(tmp_path_factory.mktemp("queue-stack-logs"), OFFBOARD_AWS_READ_TIMEOUT_SECONDS="1")
    try:
        yield stack.start()
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def sqs(stack):
    return boto3.client("sqs", endpoint_url=stack.sqs_endpoint, region_name="us-east-1")


def until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")


def messages_in(sqs, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def worker_lines(stack: LocalStack, function: str) -> list[dict]:
    lines = []
    for line in (stack.log_dir / "worker.log").read_text().splitlines():
        if line.startswith('{"function"'):
            record = json.loads(line)
            if record["function"] == function:
                lines.append(record)
    return lines


def unsubscribes(stack: LocalStack, subscriber_id: str) -> list[dict]:
    return [e for e in stack.events(subscriber_id) if e["action"] == "unsubscribe"]


def new_link(stack: LocalStack, email: str) -> str:
    stack.admin("POST", "/v1/lists/newsletter/subscribers", {"email": email}).raise_for_status()
    return stack.link(email)


def test_one_click_answers_202_while_dynamodb_stalls_and_each_is_applied_later_with_its_time(stack, sqs):
    emails = [f"stalled-{n}@example.com" for n in range(4)]
    links = [new_link(stack, email) for email in emails]

    def one_click(url):
        sent = datetime.now(UTC)
        response = requests.post(url, data="List-Unsubscribe=One-Click", headers=GMAIL, timeout=60)
        return sent, datetime.now(UTC), response

    with stack.dynamodb_stalled():
        with ThreadPoolExecutor(len(links)) as pool:
            answers = list(pool.map(one_click, links))
        # The queue did not stall with DynamoDB: every request is in it (or in the worker's hands).
        queued = messages_in(sqs, stack.queues["UNSUBSCRIBE_QUEUE_URL"])
        still_stalled = stack.dynamodb.poll() is None and requests_time_out(stack)
        # The worker's first delivery fails on the stalled server too; the message stays queued.
        until(lambda: failures(stack), 60, "a delivery failing while DynamoDB stalls")
    resumed = datetime.now(UTC)

    for sent, answered, response in answers:
        assert response.status_code == 202 and response.json() == {"status": "accepted"}
        assert (answered - sent).total_seconds() < 25  # the clients' budget, not a hang
    assert queued == len(links) and still_stalled

    for link, email, (sent, answered, _) in zip(links, emails, answers, strict=True):
        sid = subscriber_of(link)
        [event] = until(lambda sid=sid: unsubscribes(stack, sid), 90, f"the unsubscribe of {email} applied")
        at = datetime.fromisoformat(event["at"])
        assert sent <= at <= answered < resumed  # the time it was asked for, not when it was applied
        assert event["source"] == "one-click" and event["key_id"] == "k1"
        assert stack.allowed(email)["reason"] == "unsubscribed"

    until(lambda: messages_in(sqs, stack.queues["UNSUBSCRIBE_QUEUE_URL"]) == 0, 30, "the queue drained")
    assert messages_in(sqs, stack.queues["UNSUBSCRIBE_DEAD_LETTER_QUEUE_URL"]) == 0
    deliveries = worker_lines(stack, "deferred_unsubscribe")
    done = {line["message_id"] for line in deliveries if line["outcome"] == "done"}
    assert len(done) == len(links)  # each deleted by the worker once its handler returned
    assert {line["message_id"] for line in failures(stack)} <= done  # a failed one was delivered again


def failures(stack: LocalStack) -> list[dict]:
    return [line for line in worker_lines(stack, "deferred_unsubscribe") if line["outcome"] == "failed"]


def requests_time_out(stack: LocalStack) -> bool:
    """The DynamoDB server accepts connections (the kernel does) but answers nothing."""
    try:
        requests.get(stack.dynamodb_endpoint, timeout=1)
    except requests.Timeout:
        return True
    return False


def test_a_message_that_keeps_failing_goes_to_the_dead_letter_queue_and_the_others_are_applied(stack, sqs, tmp_path):
    # A queue of its own with a low maxReceiveCount, subscribed to by the deferred_unsubscribe
    # handler through its queue name, as the deployed function is.
    name = "offboard-redrive-check"
    dead_letters = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = sqs.create_queue(
        QueueName=name,
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 2})},
    )["QueueUrl"]
    link = new_link(stack, "redrive@example.com")
    asked_at = "2026-01-02T03:04:05+00:00"
    good = {
        "subscriber_id": subscriber_of(link),
        "list_id": "newsletter",
        "everything": False,
        "pause_until": None,
        "at": asked_at,
        "context": {"source": "one-click", "ip_hash": None, "user_agent": None, "key_id": "k1", "campaign_id": None},
    }
    sqs.send_message(QueueUrl=queue, MessageBody="this is not JSON")
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(good))

    worker = subprocess.run(
        [sys.executable, "-m", "tools.cli", "work-queues", queue, "--wait", "1", "--retry-after", "0", "--until-empty"],
        cwd=ROOT,
        env={**stack.env, "UNSUBSCRIBE_QUEUE_NAME": name},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    outcomes = sorted((line["delivery"], line["outcome"]) for line in map(json.loads, worker.stdout.splitlines()))
    assert outcomes == [(1, "done"), (1, "failed"), (2, "failed")]
    [dead] = sqs.receive_message(QueueUrl=dead_letters, MaxNumberOfMessages=10)["Messages"]
    assert dead["Body"] == "this is not JSON"
    assert messages_in(sqs, queue) == 0
    [event] = unsubscribes(stack, subscriber_of(link))
    assert event["at"] == asked_at


def test_the_sunset_job_runs_through_its_queue(stack):
    """What the daily schedule does (`daily_sunset_run`: plan, one message per shard), then the
    worker runs every step (`sunset_step`) on the demo data."""
    plan = (
        "from tools.stage import load_stage_environment; load_stage_environment('dev'); "
        "from chalicelib.sunset import job; print(job.plan_run(job.enqueue))"
    )
    run_id = subprocess.run(
        [sys.executable, "-c", plan], cwd=ROOT, env=stack.env, check=True, capture_output=True, text=True
    ).stdout.split()[-1]

    def finished():
        report = stack.admin("GET", f"/v1/sunset/runs/{run_id}").json()
        return report if report["status"] == "done" else None

    report = until(finished, 120, "the sunset run done")
    assert report["outcomes"]["emailed"] == 3 and report["per_list"]["newsletter"]["remind"] == 3
    assert all(line["outcome"] == "done" for line in worker_lines(stack, "sunset_step"))
