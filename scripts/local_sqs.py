"""The embedded SQS (and SES) server for local runs and tests: moto's server mode, in a process
of its own, so that a stalled DynamoDB server does not stall the queues (or the emails) too.

    python scripts/local_sqs.py [--port 8002]                           serve
    python scripts/local_sqs.py create-queues --endpoint URL [--shell]  create the queues

`create-queues` creates the unsubscribe and sunset queues, each with a dead-letter queue and
the redrive policy and visibility timeout `infra/resources.yaml` gives them in AWS (moto moves
a message to the dead-letter queue after `maxReceiveCount` receives, as SQS does). It prints
the queue URLs as JSON, or with `--shell` as `export` lines for `scripts/run-local`.
Queue names come from `UNSUBSCRIBE_QUEUE_NAME` and `SUNSET_QUEUE_NAME` (defaults
`offboard-<stage>-unsubscribes`, `offboard-<stage>-sunset`), as for the Lambda handlers.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (visibility timeout s, maxReceiveCount) as in infra/resources.yaml.
UNSUBSCRIBES = (120, 20)
SUNSET = (960, 5)
CANCEL_WEBHOOKS = (60, 10)  # the worker queues failed attempts again itself, with backoff
RETENTION_SECONDS = 1_209_600  # 14 days


def create_queues(endpoint: str, region: str) -> dict[str, str]:
    import boto3

    sys.path.insert(0, str(ROOT))
    from chalicelib.core.settings import event_sources

    sources = event_sources()
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=region)
    urls: dict[str, str] = {}
    for variable, name, (visibility, receives) in (
        ("UNSUBSCRIBE_QUEUE_URL", sources.unsubscribe_queue, UNSUBSCRIBES),
        ("SUNSET_QUEUE_URL", sources.sunset_queue, SUNSET),
        ("CANCEL_WEBHOOK_QUEUE_URL", sources.cancel_webhook_queue, CANCEL_WEBHOOKS),
    ):
        dead_letters = sqs.create_queue(
            QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": str(RETENTION_SECONDS)}
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dead_letters, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        urls[variable] = sqs.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": str(visibility),
                "MessageRetentionPeriod": str(RETENTION_SECONDS),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": receives}),
            },
        )["QueueUrl"]
        urls[variable.replace("_QUEUE_URL", "_DEAD_LETTER_QUEUE_URL")] = dead_letters
    return urls


def serve(host: str, port: int) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    run_simple(host, port, DomainDispatcherApplication(create_backend_app), threaded=True, use_reloader=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", nargs="?", choices=["serve", "create-queues"], default="serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--endpoint", help="create-queues: the SQS endpoint (default: this host and port)")
    parser.add_argument("--shell", action="store_true", help="create-queues: print `export NAME=url` lines")
    args = parser.parse_args()
    if args.action == "serve":
        serve(args.host, args.port)
        return
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    urls = create_queues(args.endpoint or f"http://{args.host}:{args.port}", region)
    if args.shell:
        print("\n".join(f"export {name}={shlex.quote(url)}" for name, url in urls.items()))
    else:
        print(json.dumps(urls, indent=2))


if __name__ == "__main__":
    main()
