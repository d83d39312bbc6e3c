"""The local queue worker: what Lambda's SQS event source does in AWS, for `scripts/run-local`,
the end-to-end tests and `python -m tools.cli work-queues`. Not shipped to Lambda."""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import TextIO

from tools.stage import CONFIG


class NotWorkable(ValueError):
    """No queue to work, or a queue no handler subscribes to."""


def lambda_settings(function: str) -> tuple[int, int]:
    """(timeout ms, memory MB) of a function, from `.chalice/config.json` as `chalice package` reads them."""
    config = json.loads(CONFIG.read_text())
    own = config.get("lambda_functions", {}).get(function, {})
    timeout = own.get("lambda_timeout", config.get("lambda_timeout", 60))
    return timeout * 1000, own.get("lambda_memory_size", config.get("lambda_memory_size", 128))


def sqs_event(message: dict, queue_url: str, region: str) -> dict:
    account, name = queue_url.rstrip("/").split("/")[-2:]
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{region}:{account}:{name}",
                "awsRegion": region,
            }
        ]
    }


def _queue_is_empty(client, url: str) -> bool:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return all(int(attributes.get(name, 0)) == 0 for name in names)


def work_queues(queue_urls: list[str], wait: int, retry_after: int, until_empty: bool, out: TextIO) -> None:
    """Long-poll each queue (default: UNSUBSCRIBE_QUEUE_URL, SUNSET_QUEUE_URL and
    CANCEL_WEBHOOK_QUEUE_URL, those set) one message at
    a time and hand it to the Lambda handler subscribed to that queue name, with an SQS event and
    a context carrying the function's timeout. A message is deleted only after its handler
    returned; a failure leaves it for another delivery after `retry_after` seconds. One JSON line
    per delivery on `out`. Runs until stopped, or with `until_empty` until every queue is empty."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    from chalice.app import SQSEventConfig
    from chalice.local import LambdaContext

    from app import app
    from chalicelib.core.observability import logger
    from chalicelib.core.settings import get_settings

    settings = get_settings()
    defaults = (settings.unsubscribe_queue_url, settings.sunset_queue_url, settings.cancel_webhook_queue_url)
    urls = list(queue_urls) or [u for u in defaults if u]
    if not urls:
        raise NotWorkable("no queue: pass queue URLs or set UNSUBSCRIBE_QUEUE_URL / SUNSET_QUEUE_URL")
    subscribed = {e.queue: e.name for e in app.event_sources if isinstance(e, SQSEventConfig)}
    functions = {}
    for url in urls:
        name = url.rstrip("/").rsplit("/", 1)[-1]
        if name not in subscribed:
            raise NotWorkable(f"no handler subscribes to the queue {name!r} (handlers: {subscribed})")
        functions[url] = subscribed[name]
    client = boto3.client(
        "sqs",
        endpoint_url=settings.sqs_endpoint,
        region_name=settings.region,
        config=Config(connect_timeout=1, read_timeout=wait + 5, retries={"mode": "standard", "total_max_attempts": 3}),
    )
    lock, failures = threading.Lock(), []

    def report(line: dict) -> None:
        with lock:
            print(json.dumps(line), file=out, flush=True)

    def deliver(url: str, function: str, message: dict) -> str:
        timeout_ms, memory = lambda_settings(function)
        try:
            app.handler_map[function](
                sqs_event(message, url, settings.region), LambdaContext(function, memory, timeout_ms)
            )
        except Exception:  # noqa: BLE001  (a failed invocation: SQS delivers the message again)
            logger.exception("queued message failed", extra={"function": function})
            client.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=retry_after
            )
            return "failed"
        client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return "done"

    def poll(url: str, function: str) -> None:
        while True:
            try:
                messages = client.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=wait, AttributeNames=["All"]
                ).get("Messages", [])
                if not messages and until_empty and _queue_is_empty(client, url):
                    return
                for message in messages:
                    outcome = deliver(url, function, message)
                    count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0))
                    report(
                        {
                            "function": function,
                            "message_id": message["MessageId"],
                            "delivery": count,
                            "outcome": outcome,
                        }
                    )
            except (BotoCoreError, ClientError) as error:
                logger.warning("queue out of reach", extra={"function": function, "error": str(error)})
                time.sleep(1)

    def run(url: str, function: str) -> None:
        try:
            poll(url, function)
        except BaseException as error:  # noqa: BLE001  (reported by the main thread)
            failures.append(error)

    threads = [threading.Thread(target=run, args=(url, fn), daemon=True) for url, fn in functions.items()]
    for thread in threads:
        thread.start()
    print(f"working {', '.join(f'{fn} <- {url}' for url, fn in functions.items())}", file=sys.stderr, flush=True)
    while any(thread.is_alive() for thread in threads) and not failures:
        for thread in threads:
            thread.join(timeout=0.5)
    if failures:
        raise failures[0]
