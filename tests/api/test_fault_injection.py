"""DynamoDB throttling on each write path: retried with backoff, then a clear 503 for machines;
an unsubscribe that cannot be stored is queued durably and applied later, never lost."""

import json

import boto3
import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from chalice.test import Client
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

from app import app
from chalicelib.core.settings import forget_settings
from tests.api.test_offers_api import BROWSER, CAMPAIGN, ORIGIN
from tests.api.test_one_click import GMAIL, unsubscribes
from tests.helpers import fresh_dynamodb_clients

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Throttle:
    """Answers DynamoDB requests with ProvisionedThroughputExceededException, `times` times
    (or always), where moto answers them (botocore's before-send): botocore's own retry logic
    then runs as it would against AWS."""

    def __init__(self, monkeypatch, times=None, timeout=False):
        fresh_dynamodb_clients()  # a full retry quota, whatever earlier tests in this process injected
        self.left, self.seen = times, 0
        real_stub = BotocoreStubber.__call__
        throttle = self

        def stub(stubber, event_name, request, **kwargs):
            target = request.headers.get("X-Amz-Target", b"")
            target = target.decode() if isinstance(target, bytes) else target
            if target.startswith("DynamoDB_") and (throttle.left is None or throttle.left > 0):
                throttle.seen += 1
                if throttle.left is not None:
                    throttle.left -= 1
                if timeout:
                    raise ReadTimeoutError(endpoint_url=request.url)
                body = json.dumps(
                    {
                        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                        "message": "slow down",
                    }
                )
                return AWSResponse(
                    request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, MockRawResponse(body)
                )
            return real_stub(stubber, event_name, request, **kwargs)

        monkeypatch.setattr(BotocoreStubber, "__call__", stub)
        monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.001)

    def stop(self):
        self.left = 0


def apply_queued(queue_url):
    """What the deferred_unsubscribe function does when SQS delivers the queued message."""
    [message] = boto3.client("sqs", region_name="us-east-1").receive_message(QueueUrl=queue_url)["Messages"]
    with Client(app) as client:
        event = client.events.generate_sqs_event(queue_name="offboard-unsubscribes", message_bodies=[message["Body"]])
        client.lambda_.invoke("deferred_unsubscribe", event)


@pytest.fixture
def unsubscribe_queue(monkeypatch):
    url = boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="offboard-unsubscribes")["QueueUrl"]
    monkeypatch.setenv("UNSUBSCRIBE_QUEUE_URL", url)
    forget_settings()
    return url


def test_throttling_is_retried_and_the_one_click_succeeds(api, monkeypatch):
    path = api.link("alice@example.com")
    throttle = Throttle(monkeypatch, times=2)
    assert api.http.post(path, headers=GMAIL, body=b"List-Unsubscribe=One-Click").status_code == 200
    assert throttle.seen == 2
    assert api.allowed("alice@example.com")["reason"] == "unsubscribed"


def test_an_unsubscribe_that_cannot_be_stored_is_queued_and_applied_later(api, monkeypatch, unsubscribe_queue):
    path = api.link("alice@example.com")
    throttle = Throttle(monkeypatch)
    response = api.http.post(path, headers=GMAIL, body=b"List-Unsubscribe=One-Click")
    assert response.status_code == 202 and response.json_body == {"status": "accepted"}
    assert throttle.seen == 4  # the first attempt and three retries
    throttle.stop()
    assert api.allowed("alice@example.com")["allowed"] is True  # not applied yet

    apply_queued(unsubscribe_queue)
    assert api.allowed("alice@example.com")["reason"] == "unsubscribed"
    [event] = unsubscribes(api, path)
    assert event["source"] == "one-click" and event["key_id"] == "k1"


def test_the_page_queues_a_stop_everything_too(api, monkeypatch, unsubscribe_queue):
    path = api.link("alice@example.com")
    Throttle(monkeypatch)
    page = api.http.post(path, headers=FORM, body=b"choice=all")
    assert page.status_code == 202 and b"We have your request" in page.body


def test_without_a_queue_a_machine_gets_a_clear_503(api, monkeypatch):
    path = api.link("alice@example.com")
    monkeypatch.delenv("UNSUBSCRIBE_QUEUE_URL", raising=False)
    forget_settings()
    Throttle(monkeypatch)
    response = api.http.post(path, headers=GMAIL, body=b"List-Unsubscribe=One-Click")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json_body["error"] == "unavailable" and "Traceback" not in response.body.decode()


def test_a_throttled_offer_decision_is_503_and_issues_nothing(api, monkeypatch):
    assert (
        api.admin("POST", "/v1/sites", {"site_key": "shop", "name": "Shop", "allowed_origins": [ORIGIN]}).status_code
        == 201
    )
    assert api.admin("PUT", "/v1/sites/shop/campaigns/five-off", CAMPAIGN).status_code == 200
    throttle = Throttle(monkeypatch)
    body = json.dumps(
        {"site_key": "shop", "visitor_id": "v1", "page_url": f"{ORIGIN}/cart", "cart_value": 40, "currency": "USD"}
    ).encode()
    response = api.http.post("/offers/decide", headers=BROWSER, body=body)
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    throttle.stop()
    assert api.admin("GET", "/v1/sites/shop/campaigns/five-off/report").json_body["arms"] == []


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/v1/lists/newsletter/subscribers", {"email": "new@example.com"}),
        ("POST", "/v1/send-check", {"list_id": "newsletter", "recipients": [{"email": "alice@example.com"}]}),
        ("POST", "/v1/lists", {"list_id": "fresh", "name": "Fresh"}),
    ],
)
def test_throttled_admin_writes_and_reads_are_503(api, monkeypatch, method, path, body):
    Throttle(monkeypatch)
    response = api.admin(method, path, body)
    assert response.status_code == 503 and response.json_body["error"] == "unavailable"


def test_a_throttled_redemption_is_503_and_the_code_stays_valid(api, monkeypatch):
    api.admin("POST", "/v1/sites", {"site_key": "shop", "name": "Shop", "allowed_origins": [ORIGIN]})
    api.admin("PUT", "/v1/sites/shop/campaigns/five-off", CAMPAIGN)
    body = json.dumps(
        {"site_key": "shop", "visitor_id": "v1", "page_url": f"{ORIGIN}/cart", "cart_value": 40, "currency": "USD"}
    ).encode()
    code = api.http.post("/offers/decide", headers=BROWSER, body=body).json_body["offer"]["code"]
    throttle = Throttle(monkeypatch)
    assert (
        api.admin("POST", f"/v1/codes/{code}/redemptions", {"order_ref": "o-1", "channel": "store"}).status_code == 503
    )
    throttle.stop()
    assert api.admin("GET", f"/v1/codes/{code}").json_body["status"] == "valid"


def test_timeouts_are_retried_too_and_then_the_unsubscribe_is_queued(api, monkeypatch, unsubscribe_queue):
    path = api.link("alice@example.com")
    flaky = Throttle(monkeypatch, times=2, timeout=True)
    assert api.http.post(path, headers=GMAIL, body=b"List-Unsubscribe=One-Click").status_code == 200
    assert flaky.seen == 2 and api.allowed("alice@example.com")["reason"] == "unsubscribed"
    bob = api.link("bob@example.com")
    Throttle(monkeypatch, timeout=True)
    assert api.http.post(bob, headers=GMAIL, body=b"List-Unsubscribe=One-Click").status_code == 202


def test_a_pause_that_cannot_be_stored_is_queued_and_applied_later(api, monkeypatch, unsubscribe_queue):
    path = api.link("alice@example.com")
    throttle = Throttle(monkeypatch)
    queued = api.http.post(path, headers=FORM, body=b"choice=pause30")
    assert queued.status_code == 202 and b"We have your request" in queued.body
    assert b"unsubscribed" not in queued.body.lower() and b"Something is not right" not in queued.body  # honest
    throttle.stop()
    apply_queued(unsubscribe_queue)
    assert api.allowed("alice@example.com")["reason"] == "paused"


class AnswerLost:
    """DynamoDB applies the first TransactWriteItems, then the answer is lost (a read timeout):
    botocore retries the same request, as it does against AWS."""

    def __init__(self, monkeypatch):
        self.lost = 0
        real_stub = BotocoreStubber.__call__
        lose = self

        def stub(stubber, event_name, request, **kwargs):
            response = real_stub(stubber, event_name, request, **kwargs)
            target = request.headers.get("X-Amz-Target", b"")
            target = target.decode() if isinstance(target, bytes) else target
            if target.endswith("TransactWriteItems") and lose.lost == 0:
                lose.lost += 1
                raise ReadTimeoutError(endpoint_url=request.url)
            return response

        monkeypatch.setattr(BotocoreStubber, "__call__", stub)
        monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.001)


@pytest.mark.parametrize("choice", ["pause30", "list", "all"])
def test_a_change_whose_answer_was_lost_is_done_once_not_refused(api, monkeypatch, choice):
    path = api.link("alice@example.com")
    lost = AnswerLost(monkeypatch)
    page = api.http.post(path, headers=FORM, body=f"choice={choice}".encode())
    assert lost.lost == 1
    assert page.status_code == 303 and "/survey?event=EVENT" in page.headers["Location"]
    sid = path.split("/")[2].split(".")[1]
    changes = [e for e in api.events(sid) if e["action"] in ("pause", "unsubscribe", "unsubscribe_all")]
    assert len(changes) == 1


def test_an_admin_subscribe_whose_answer_was_lost_answers_subscribed(api, monkeypatch):
    AnswerLost(monkeypatch)
    response = api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "carol@example.com"})
    assert response.status_code == 201 and response.json_body["result"] == "subscribed"
