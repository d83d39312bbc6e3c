"""Cancel-session webhooks against a real local HTTP receiver (run-local's, in a thread) that
fails, times out and answers slowly: every event arrives signed, nothing is lost, and no event
id is sent again once the receiver answered 2xx; a dead-lettered event is replayed by the CLI."""

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import boto3
import pytest
from chalice.test import Client

from app import app
from chalicelib.cancel import webhooks
from chalicelib.core.settings import forget_settings
from tests.moto_atomic import atomic_dynamodb  # noqa: F401  (fixture)
from tools.webhook_receiver import Receiver

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def queues(monkeypatch):
    sqs = boto3.client("sqs", region_name="us-east-1")
    urls = {
        "CANCEL_WEBHOOK_QUEUE_URL": sqs.create_queue(QueueName="offboard-dev-cancel-webhooks")["QueueUrl"],
        "CANCEL_WEBHOOK_DEAD_LETTER_QUEUE_URL": sqs.create_queue(QueueName="offboard-dev-cancel-webhooks-dlq")[
            "QueueUrl"
        ],
    }
    for name, url in urls.items():
        monkeypatch.setenv(name, url)
    forget_settings()
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.6)
    monkeypatch.setattr(webhooks, "LEASE", timedelta(seconds=2))
    monkeypatch.setattr(webhooks, "BACKOFF_BASE_SECONDS", 0)
    yield urls
    forget_settings()


@pytest.fixture
def receiver(api, queues):
    """The business's endpoint: run-local's receiver (tools/webhook_receiver.py). `script` says
    how it answers each request in turn (then 200): "fail" (500), "timeout" (answers after the
    sender gave up), "slow" (late, but in time)."""
    receiver = Receiver(timeout_seconds=webhooks.TIMEOUT_SECONDS * 2, slow_seconds=webhooks.TIMEOUT_SECONDS / 3)
    response = api.admin("PUT", "/v1/cancel-flows/acme/webhook", {"url": receiver.url})
    assert response.status_code == 200, response.body
    receiver.secrets = [response.json_body["secret"]]
    yield receiver
    receiver.stop()


def open_and_cancel(api, n: int) -> str:
    body = {
        "business": "acme",
        "customer_id": f"cus_{n}",
        "subscription_id": f"sub_{n}",
        "plan": "Pro",
        "price": 1000,
        "currency": "EUR",
        "return_url": "https://acme.example/account",
        "effective_date": (date.today() + timedelta(days=10)).isoformat(),
    }
    response = api.admin("POST", "/v1/cancel-sessions", body)
    path = urlsplit(response.json_body["url"]).path
    api.http.request("POST", path, headers=FORM, body=urlencode({"action": "cancel", "reason": "other"}).encode())
    return response.json_body["session_id"]


def pump(url: str, duplicate_every: int = 0, rounds: int = 200) -> None:
    """What the SQS event source does: hand each message to the `cancel_webhooks` function,
    delete it when the function returned; a failure leaves it for the next receive. With
    `duplicate_every`, some messages are handed over twice (SQS delivers at least once)."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    handed = 0
    with Client(app) as client:
        for _ in range(rounds):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=1).get("Messages")
            if not messages:
                attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                if all(int(attributes[k]) == 0 for k in attributes if k.startswith("ApproximateNumberOf")):
                    return
                time.sleep(0.3)
                continue
            for message in messages:
                event = client.events.generate_sqs_event(
                    queue_name="offboard-dev-cancel-webhooks", message_bodies=[message["Body"]]
                )
                handed += 1
                times = 2 if duplicate_every and handed % duplicate_every == 0 else 1
                try:
                    for _ in range(times):
                        client.lambda_.invoke("cancel_webhooks", event)
                except Exception:  # noqa: BLE001  (left for the next receive, as SQS does)
                    continue
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    raise AssertionError("the queue did not drain")


def test_every_event_arrives_signed_once_despite_failures_timeouts_and_slow_answers(api, receiver, queues):
    receiver.script = ["fail", "timeout", "slow", "fail", "ok", "timeout"]
    sessions = [open_and_cancel(api, n) for n in range(5)]
    pump(queues["CANCEL_WEBHOOK_QUEUE_URL"], duplicate_every=3)
    expected = {f"evt_{s}_{kind}" for s in sessions for kind in ("started", "completed")}
    assert {event for event, _, _ in receiver.received} == expected  # nothing lost
    assert all(ok for _, _, ok in receiver.received)  # every request signed with the secret
    ok = receiver.answered_ok()
    assert sorted(ok) == sorted(expected)  # once answered 2xx, never sent again
    # The faults did happen, and were retried.
    assert sum(how in ("fail", "timeout") for _, how, _ in receiver.received) == 4


def test_a_payload_says_what_happened(api, receiver, queues):
    session = open_and_cancel(api, 1)
    captured = []
    real_post = webhooks._post
    webhooks._post = lambda url, body, signature: captured.append(json.loads(body)) or real_post(url, body, signature)
    try:
        pump(queues["CANCEL_WEBHOOK_QUEUE_URL"])
    finally:
        webhooks._post = real_post
    completed = next(e for e in captured if e["type"] == "cancel_session.completed")
    assert completed["id"] == f"evt_{session}_completed"
    assert completed["data"]["object"]["status"] == "cancelled"
    assert completed["data"]["object"]["reason"] == "other"
    assert completed["data"]["object"]["subscription_id"] == "sub_1"


def test_an_endpoint_down_for_long_dead_letters_the_event_and_the_cli_replays_it(api, receiver, queues, monkeypatch):
    from tools.cli import main

    monkeypatch.setattr(webhooks, "MAX_ATTEMPTS", 3)
    receiver.script = ["fail"] * 6  # started and completed, three attempts each
    session = open_and_cancel(api, 7)
    pump(queues["CANCEL_WEBHOOK_QUEUE_URL"])
    assert receiver.answered_ok() == []
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = queues["CANCEL_WEBHOOK_DEAD_LETTER_QUEUE_URL"]
    dead = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])
    assert dead["Attributes"]["ApproximateNumberOfMessages"] == "2"

    assert main(["replay-queue", dlq, queues["CANCEL_WEBHOOK_QUEUE_URL"]]) == 0
    pump(queues["CANCEL_WEBHOOK_QUEUE_URL"])
    assert sorted(receiver.answered_ok()) == [f"evt_{session}_completed", f"evt_{session}_started"]


def test_the_webhook_url_must_be_https_outside_this_machine(api, queues):
    response = api.admin("PUT", "/v1/cancel-flows/acme/webhook", {"url": "http://acme.example/hooks"})
    assert response.status_code == 400


@pytest.mark.usefixtures("atomic_dynamodb")
def test_two_workers_with_the_same_message_send_it_once(api, receiver, queues):
    open_and_cancel(api, 3)
    sqs = boto3.client("sqs", region_name="us-east-1")
    bodies = [
        m["Body"]
        for m in sqs.receive_message(QueueUrl=queues["CANCEL_WEBHOOK_QUEUE_URL"], MaxNumberOfMessages=10)["Messages"]
    ]
    message = json.loads(bodies[0])
    receiver.script = ["slow"]
    outcomes, start = [], threading.Barrier(2)

    def work():
        start.wait()
        try:
            outcomes.append(webhooks.deliver(message))
        except RuntimeError:
            outcomes.append("busy")  # SQS hands it over again later

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["busy", "delivered"]
    assert webhooks.deliver(message) == "already_delivered"
    assert [event for event, _, _ in receiver.received] == [message["event"]["id"]]


def test_events_whose_queueing_failed_wait_in_the_outbox_until_flushed(api, receiver, queues, monkeypatch):
    from chalicelib.core import aws
    from chalicelib.storage import cancel as store
    from tools.cli import main

    def queue_down(url, messages):
        raise RuntimeError("SQS unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(aws, "send_messages", queue_down)
        session = open_and_cancel(api, 9)  # the person's cancellation succeeds all the same
    pump(queues["CANCEL_WEBHOOK_QUEUE_URL"])
    assert receiver.received == []
    assert len(store.outbox_older_than(datetime.now(UTC) + timedelta(minutes=1))) == 2

    assert main(["cancel-webhooks-flush", "--older-than", "0"]) == 0
    pump(queues["CANCEL_WEBHOOK_QUEUE_URL"])
    assert sorted(receiver.answered_ok()) == [f"evt_{session}_completed", f"evt_{session}_started"]
    assert store.outbox_older_than(datetime.now(UTC) + timedelta(minutes=1)) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.example/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/x",
        "https://[::1]/x",
        "https://localhost/x",
        "https://db.internal/x",
        "https://user:pass@acme.example/x",
        "https://acme.example/hook\r\nX-Injected: 1",
        "https://acme.example/ho ok",
        "https://acme.example:99999/x",
        "file:///etc/passwd",
        "https://acm\u00e9.example/x",
        "https://2130706433/h",
        "https://0x7f000001/h",
        "https://127.1/h",
        "https://0177.0.0.1/h",
    ],
)
def test_a_webhook_url_that_is_not_a_public_https_endpoint_is_refused(api, url):
    response = api.admin("PUT", "/v1/cancel-flows/acme/webhook", {"url": url})
    assert response.status_code == 400 and response.json_body["error"] == "invalid_webhook_url"


def test_a_public_https_url_is_accepted(api):
    response = api.admin("PUT", "/v1/cancel-flows/acme/webhook", {"url": "https://hooks.acme.example/offboard"})
    assert response.status_code == 200 and response.json_body["secret"].startswith("whsec_")


def test_a_name_pointing_inside_a_network_at_delivery_is_not_posted_to_and_retried(api, queues, monkeypatch):
    """Accepted while public, then pointed at 10.0.0.5: the delivery is refused before any
    connection, recorded as failed and queued again like any other failure (nothing lost)."""
    import socket

    assert api.admin("PUT", "/v1/cancel-flows/acme/webhook", {"url": "https://hooks.acme.example/x"}).status_code == 200
    open_and_cancel(api, 1)
    sqs = boto3.client("sqs", region_name="us-east-1")
    [raw] = sqs.receive_message(QueueUrl=queues["CANCEL_WEBHOOK_QUEUE_URL"], MaxNumberOfMessages=1)["Messages"]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.0.0.5", 443))])
    posted = []
    monkeypatch.setattr(webhooks, "_post", lambda *a: posted.append(a) or 200)
    assert webhooks.deliver(json.loads(raw["Body"])) == "retry" and posted == []
