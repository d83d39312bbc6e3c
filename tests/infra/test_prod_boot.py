"""The deploy steps of docs/deploy.md, as written, boot the prod stage (issue 17, part 1).

Given the SSM parameters the deploy steps tell the operator to create (each command
expanded by bash, `$(openssl rand ...)` included), the stack parameters its `aws cloudformation
deploy` passes, and the packaged prod template (`scripts/package`): moto's server stands in for
AWS, with what the stack creates (tables, queues, topics, the configuration set) and the sender
domain verified (step 1). Each function then runs as Lambda runs it: its own interpreter, the
function zip and the layer only (`python -S`), the template's environment for it, importing just
the module its `Handler` names (tests/infra/lambda_container.py). Every function is invoked:
the API with a JSON, a page and a browser route, SNS, EventBridge, the schedule and both SQS
workers. Nothing raises, every link starts with `PublicBaseUrl`, and each email comes from the
sender the deploy configured.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_string
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest

from tests.documented import deploy_steps, ssm_parameters, stack_parameters
from tests.infra.conftest import ACCOUNT, REGION, ROOT, Resolver, create_stack_resources, load_template, resources

SITE = "python/lib/python3.12/site-packages/"
ADMIN_ARN = f"arn:aws:iam::{ACCOUNT}:user/operator"
ORIGIN = "https://shop.example"
BROWSER = {"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CAMPAIGN = {
    "offer": {"kind": "amount", "value": 5, "currency": "USD", "expires_minutes": 15},
    "budget": {"total_codes": 50},
    "targeting": {"paths": ["/*"], "min_cart_value": 20, "currency": "USD"},
    "variants": [{"variant_id": "a", "texts": {"headline": "Take 5 off"}}],
}


# AWS as the stack leaves it, in moto's server.


@pytest.fixture(scope="module")
def endpoint():
    from moto.server import ThreadedMotoServer

    from tests.helpers import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


class Container:
    """A function's Lambda container (tests/infra/lambda_container.py) on the packaged code."""

    def __init__(self, code: Path, handler: str, name: str, environment: dict[str, str], log: Path):
        self.name, self.log = name, log
        self.process = subprocess.Popen(
            [sys.executable, "-S", str(ROOT / "tests" / "infra" / "lambda_container.py"), handler, name],
            cwd=code,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )

    def invoke(self, event: dict):
        self.process.stdin.write(json.dumps(event) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"{self.name} died:\n{self.log.read_text()[-3000:]}"
        answer = json.loads(line)
        assert answer["ok"], f"{self.name} raised {answer['error']}:\n{self.log.read_text()[-3000:]}"
        return answer["result"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


# Lambda's events.


def http_event(method: str, resource: str, params: dict | None = None, headers=None, body=None, admin=False) -> dict:
    path = resource
    for name, value in (params or {}).items():
        path = path.replace("{" + name + "}", value)
    headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", **(headers or {})}
    if isinstance(body, dict):
        body, headers = json.dumps(body), {**headers, "Content-Type": "application/json"}
    identity = {
        "sourceIp": "203.0.113.9",
        "userAgent": headers.get("User-Agent"),
        "userArn": ADMIN_ARN if admin else None,
    }
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/api{path}",
            "stage": "api",
            "requestId": str(uuid.uuid4()),
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "identity": identity,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def sns_event(topic_arn: str, message: str) -> dict:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def sqs_event(queue_arn: str, message: dict) -> dict:
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767225600000"},
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        ]
    }


def _source(event: dict) -> str:
    """What invoked a function, for the printed list: the route and its kind, or the event source."""
    if "httpMethod" in event:
        resource = event["resource"]
        kind = "page" if resource.startswith("/u/") else "browser" if resource.startswith("/offers/") else "json"
        return f"API Gateway {event['httpMethod']} {resource} ({kind})"
    if "Records" in event:
        record = event["Records"][0]
        if "Sns" in record:
            return f"SNS {record['Sns']['TopicArn'].rsplit(':', 1)[1]}"
        return f"SQS {record['eventSourceARN'].rsplit(':', 1)[1]}"
    if event.get("detail-type") == "Scheduled Event":
        return "EventBridge schedule"
    return f"EventBridge {event['source']} {event['detail-type']!r}"


def scheduled_event() -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/offboard-prod-DailySunsetRunEvent-X"],
        "detail": {},
    }


@pytest.fixture(scope="module")
def boot(packaged, unpacked, endpoint, tmp_path_factory):
    """Runs the deploy steps and every function once; returns what the test checks."""
    from moto.ses.models import ses_backends

    from tests.helpers import eventbridge_event, sns_message
    from tests.integration.doors import inbound_sms, received

    section = deploy_steps()
    parameters, overrides = ssm_parameters(section), stack_parameters(section)
    template = load_template(packaged("prod") / "sam.yaml")
    resolver = Resolver(template, "prod", overrides)

    @functools.cache  # one client per service: building one costs more CPU than most calls made with it
    def client(service):
        return boto3.client(
            service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
        )

    create_stack_resources(client, resolver)
    for name, (kind, value) in parameters.items():
        client("ssm").put_parameter(Name=name, Type=kind, Value=value)
    for sender in {overrides.get("SunsetEmailFrom"), overrides.get("OfferEmailFrom")} - {None, ""}:
        client("sesv2").create_email_identity(EmailIdentity=sender.rpartition("@")[2])  # step 1: the domain

    root = tmp_path_factory.mktemp("lambda")
    code, layer = unpacked
    functions = resources(template, "AWS::Serverless::Function")
    containers: dict[str, Container] = {}
    invoked: dict[str, int] = {}
    trail: dict[str, int] = {}  # "function (Handler) <- what invoked it": how many times

    def start(logical: str) -> Container:
        if logical not in containers:
            environment = {
                **resolver.environment(logical),
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": f"{code}:{layer}/{SITE}",
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_LAMBDA_FUNCTION_NAME": resolver.function_name(logical),
                "AWS_ACCESS_KEY_ID": "x",
                "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_ENDPOINT_URL": endpoint,  # the network: AWS is moto's server here
            }
            handler = functions[logical]["Properties"]["Handler"]
            containers[logical] = Container(
                code, handler, resolver.function_name(logical), environment, root / f"{logical}.log"
            )
        return containers[logical]

    def invoke(logical: str, event: dict):
        invoked[logical] = invoked.get(logical, 0) + 1
        line = f"{logical} ({functions[logical]['Properties']['Handler']}) <- {_source(event)}"
        trail[line] = trail.get(line, 0) + 1
        return start(logical).invoke(event)

    def api(method, resource, params=None, **options):
        result = invoke("APIHandler", http_event(method, resource, params, **options))
        assert result["statusCode"] < 500, (result, containers["APIHandler"].log.read_text()[-3000:])
        return result["statusCode"], result["body"]

    seen: dict[str, object] = {"ssm": parameters, "stack": overrides, "functions": sorted(functions)}
    try:
        # JSON routes (the admin API, behind IAM: API Gateway has checked the caller's signature).
        short = {"inactive_days": 7, "min_sends": 0, "max_share": 1, "max_share_7d": 1, "max_share_30d": 1}
        assert api("POST", "/v1/lists", body={"list_id": "newsletter", "name": "The Weekly"}, admin=True)[0] == 201
        # The first container compiled the packaged code (its __pycache__ is in the extracted
        # zips now): the other functions' containers start side by side, each importing only its
        # Handler's module, and wait for their first event.
        for logical in functions:
            start(logical)
        assert (
            api("PUT", "/v1/lists/{list_id}/sunset-policy", {"list_id": "newsletter"}, body=short, admin=True)[0] == 200
        )
        links = {}
        for email in ("alice@example.com", "bob@example.com"):
            assert (
                api(
                    "POST",
                    "/v1/lists/{list_id}/subscribers",
                    {"list_id": "newsletter"},
                    body={"email": email},
                    admin=True,
                )[0]
                == 201
            )
            status, body = api(
                "POST", "/v1/unsubscribe-headers", body={"email": email, "list_id": "newsletter"}, admin=True
            )
            links[email] = json.loads(body)
        seen["headers"] = links["bob@example.com"]
        alice, bob = (urlsplit(links[e]["unsubscribe_url"]).path.split("/")[2].split(".")[1] for e in links)
        token = urlsplit(links["bob@example.com"]["unsubscribe_url"]).path.split("/")[2]

        # Page routes: the landing page a person opens, the one-click POST a mailbox provider sends.
        seen["landing"] = api("GET", "/u/{token}", {"token": token}, headers={"Accept": "text/html"})
        seen["one_click"] = api("POST", "/u/{token}", {"token": token}, headers=FORM, body="List-Unsubscribe=One-Click")

        # Browser routes: the exit-intent snippet's calls from a shop's page.
        site = {"site_key": "shop", "name": "Shop", "allowed_origins": [ORIGIN]}
        assert api("POST", "/v1/sites", body=site, admin=True)[0] == 201
        assert (
            api(
                "PUT",
                "/v1/sites/{site_key}/campaigns/{campaign_id}",
                {"site_key": "shop", "campaign_id": "five-off"},
                body=CAMPAIGN,
                admin=True,
            )[0]
            == 200
        )
        ask = {
            "site_key": "shop",
            "visitor_id": "v1",
            "session_id": "s1",
            "page_url": f"{ORIGIN}/cart",
            "cart_value": 42.5,
            "currency": "USD",
        }
        status, body = api("POST", "/offers/decide", headers=BROWSER, body=json.dumps(ask))
        coupon = json.loads(body)["offer"]["code"]
        emailed = {"site_key": "shop", "code": coupon, "email": "shopper@example.com"}
        seen["offer_email"] = api("POST", "/offers/email", headers=BROWSER, body=json.dumps(emailed))

        # The schedule, then the sunset worker on what it queued: alice joined 30 days ago.
        table = resolver.value(template["Resources"]["SubscribersTable"]["Properties"]["TableName"])
        items = client("dynamodb").scan(TableName=table)["Items"]
        [item] = [i for i in items if i["pk"]["S"] == alice and "sunset_due" in i]
        month_ago = datetime.now(UTC) - timedelta(days=30)
        due = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d") + item["sunset_due"]["S"][10:]
        client("dynamodb").update_item(
            TableName=table,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET subscribed_at = :joined, sunset_due = :due",
            ExpressionAttributeValues={
                ":joined": {"S": month_ago.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")},
                ":due": {"S": due},
            },
        )
        invoke("DailySunsetRun", scheduled_event())
        sunset_url = resolver.environment("SunsetStep")["SUNSET_QUEUE_URL"]
        sunset_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{sunset_url.rsplit('/', 1)[1]}"
        queue = client("sqs").get_queue_url(QueueName=sunset_url.rsplit("/", 1)[1])["QueueUrl"]
        for _ in range(200):
            messages = client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=1).get("Messages")
            if not messages:
                break
            invoke("SunsetStep", sqs_event(sunset_arn, messages[0]))
            client("sqs").delete_message(QueueUrl=queue, ReceiptHandle=messages[0]["ReceiptHandle"])

        # SES events (SNS and EventBridge), received mail, inbound SMS.
        def topic(logical):
            return resolver.ref(logical)

        invoke("SesEventFromSns", sns_event(topic("SesEventsTopic"), sns_message("delivery", alice)))
        invoke("SesEventFromEventbridge", eventbridge_event("click", alice))
        mail = received(
            f"unsubscribe+newsletter@{overrides.get('PublicBaseUrl', 'x').split('//')[1]}", sender="bob@example.com"
        )
        invoke("MailtoUnsubscribe", sns_event(topic("MailReceivedTopic"), json.dumps(mail)))
        invoke("SmsKeyword", sns_event(topic("SmsInboundTopic"), json.dumps(inbound_sms("+66812345678", "STOP"))))

        # The deferred-unsubscribe worker, on a message as the API queues it when DynamoDB is slow.
        unsubscribe_url = resolver.environment("DeferredUnsubscribe")["UNSUBSCRIBE_QUEUE_URL"]
        name = unsubscribe_url.rsplit("/", 1)[1]
        queue = client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        context = {"source": "one_click", "ip_hash": None, "user_agent": None, "key_id": "k1", "campaign_id": None}
        body = {
            "subscriber_id": alice,
            "list_id": "newsletter",
            "everything": False,
            "pause_until": None,
            "at": datetime.now(UTC).isoformat(),
            "context": context,
        }
        client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(body))
        [message] = client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=1)["Messages"]
        invoke("DeferredUnsubscribe", sqs_event(f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}", message))

        # The cancel-webhook worker, on the event a new cancel session queues (no endpoint set yet).
        session = {
            "business": "acme",
            "customer_id": "cus_1",
            "subscription_id": "sub_1",
            "plan": "Pro",
            "price": 1999,
            "currency": "USD",
            "return_url": "https://acme.example/account",
            "effective_date": (datetime.now(UTC) + timedelta(days=10)).date().isoformat(),
        }
        assert api("POST", "/v1/cancel-sessions", body=session, admin=True)[0] == 201
        cancel_name = resolver.environment("CancelWebhooks")["CANCEL_WEBHOOK_QUEUE_URL"].rsplit("/", 1)[1]
        cancel_queue = client("sqs").get_queue_url(QueueName=cancel_name)["QueueUrl"]
        [started] = client("sqs").receive_message(QueueUrl=cancel_queue, MaxNumberOfMessages=1)["Messages"]
        invoke("CancelWebhooks", sqs_event(f"arn:aws:sqs:{REGION}:{ACCOUNT}:{cancel_name}", started))
        _, consent = api("GET", "/v1/subscribers/{subscriber_id}/consent", {"subscriber_id": alice}, admin=True)
        seen["alice_consent"] = [json.loads(line) for line in consent.splitlines()]
    finally:
        for container in containers.values():
            container.close()
    seen["invoked"] = invoked
    seen["logs"] = {logical: (root / f"{logical}.log").read_text() for logical in containers}
    seen["sent"] = list(ses_backends[ACCOUNT][REGION].sent_messages)
    seen["alice"], seen["bob"] = alice, bob
    print("\nfunctions invoked on the prod stage (packaged code, one container each):")
    for line, times in trail.items():
        print(f"  {line}" + (f" x{times}" if times > 1 else ""))
    return seen


def test_the_readme_names_the_secrets_and_the_deployments_settings(boot):
    from chalicelib.core.settings import SECRET_NAMES

    assert {name.rsplit("/", 1)[1] for name in boot["ssm"]} == set(SECRET_NAMES) - {"ADMIN_API_KEYS"}
    assert all(name.startswith("/offboard/prod/") for name in boot["ssm"])
    assert {"PublicBaseUrl", "SunsetEmailFrom", "OfferEmailFrom"} <= set(boot["stack"])


def test_every_function_of_the_template_ran_on_the_prod_stage_without_raising(boot):
    # Each `invoke` asserted that the function returned (or answered below 500) on its own.
    assert set(boot["invoked"]) == set(boot["functions"])
    for logical, log in boot["logs"].items():
        assert "ConfigurationError" not in log and "Traceback" not in log, (logical, log[-2000:])


def test_the_middleware_runs_in_every_function_as_deployed(boot):
    """Lambda imports only the Handler's module: every line a function logs carries the
    invocation's correlation id (and, for events, the function's name), and its metrics are
    written, which only the middleware registered in app.py does (chalice#1566)."""
    tagged = set()
    for logical, log in boot["logs"].items():
        lines = [r for r in (json.loads(t) for t in log.splitlines() if t.startswith("{")) if "level" in r]
        assert all(line.get("correlation_id") for line in lines), (logical, lines)
        tagged |= {logical} if lines else set()
        if logical != "APIHandler":
            assert all(line["function_name"] == f"offboard-prod-{logical}-1A2B3C4D5E6F" for line in lines), lines
    assert {"APIHandler", "SesEventFromSns", "DailySunsetRun", "SunsetStep", "SmsKeyword"} <= tagged


def test_links_use_the_configured_base_url(boot):
    base = boot["stack"]["PublicBaseUrl"]
    headers = boot["headers"]
    assert headers["unsubscribe_url"].startswith(f"{base}/u/k1.")
    assert headers["headers"]["List-Unsubscribe"] == f"<{headers['unsubscribe_url']}>"
    status, page = boot["landing"]
    assert status == 200 and "<form" in page
    [message] = [
        message_from_string(m.raw_data)
        for m in boot["sent"]
        if hasattr(m, "raw_data") and message_from_string(m.raw_data)["To"] == "alice@example.com"
    ]
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    urls = re.findall(r'href="([^"]+)"', html) + [message["List-Unsubscribe"].strip("<>")]
    assert urls and all(url.startswith(f"{base}/u/") for url in urls), urls


def test_mail_goes_from_the_configured_senders(boot):
    senders = {}
    for sent in boot["sent"]:
        if hasattr(sent, "raw_data"):
            parsed = message_from_string(sent.raw_data)
            senders[parsed["To"]] = parsed["From"]
        else:
            senders[sent.destinations["ToAddresses"][0]] = sent.source
    assert senders == {
        "alice@example.com": boot["stack"]["SunsetEmailFrom"],
        "shopper@example.com": boot["stack"]["OfferEmailFrom"],
    }
    assert boot["offer_email"][0] == 202


def test_the_flows_did_what_they_say(boot):
    assert boot["one_click"][0] == 200
    applied = [(e["action"], e["source"]) for e in boot["alice_consent"] if e["action"] == "unsubscribe"]
    assert applied == [("unsubscribe", "one_click")]  # the queued one-click, applied by the worker
