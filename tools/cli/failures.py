"""Commands that put failed work back once its cause is fixed: dead-letter queues, and failed
asynchronous invocations kept in an on-failure queue."""

from __future__ import annotations

import json

import click

from tools.cli.output import emit, progress


def _receive(queue_url: str, left: int) -> list[dict]:
    """Up to ten messages (no more than `left`), waiting a second for them."""
    from chalicelib.core.aws import sqs

    answer = sqs().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(10, left), WaitTimeSeconds=1)
    return answer.get("Messages", [])


@click.command("replay-queue")
@click.argument("dead_letter_queue_url")
@click.argument("queue_url")
@click.option("--max", "most", type=int, default=10_000, show_default=True, help="stop after this many messages")
def replay_queue(dead_letter_queue_url, queue_url, most) -> None:
    """Move messages from a dead-letter queue back to the queue whose worker failed them
    (after the cause is fixed). Each is deleted from the DLQ only once it is queued again."""
    from chalicelib.core.aws import sqs

    moved = 0
    with progress(None, "replaying") as step:
        while moved < most:
            received = _receive(dead_letter_queue_url, most - moved)
            if not received:
                break
            entries = [{"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(received)]
            result = sqs().send_message_batch(QueueUrl=queue_url, Entries=entries)
            sent = {int(entry["Id"]) for entry in result.get("Successful", [])}
            for i, message in enumerate(received):
                if i in sent:
                    sqs().delete_message(QueueUrl=dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
            moved += len(sent)
            step(len(sent))
            if len(sent) < len(received):
                break
    emit({"replayed": moved})


def _lambda_client():
    import boto3

    from chalicelib.core.settings import get_settings

    return boto3.client("lambda", region_name=get_settings().region)


@click.command("redrive-async")
@click.argument("function_name")
@click.argument("failure_queue_url")
@click.option("--max", "most", type=int, default=10_000, show_default=True, help="stop after this many records")
def redrive_async(function_name, failure_queue_url, most) -> None:
    """Re-invoke FUNCTION_NAME (asynchronously) with the event of each failed invocation kept in
    its on-failure queue, after the cause is fixed. Lambda keeps an invocation record there, the
    event under `requestPayload`; each record is deleted once Lambda has accepted the event again.
    Records of another function are left in the queue."""
    from chalicelib.core.aws import sqs

    redriven = skipped = 0
    seen: set[str] = set()
    with progress(None, "redriving") as step:
        while redriven < most:
            received = _receive(failure_queue_url, most - redriven)
            fresh = [m for m in received if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                record = json.loads(message["Body"])
                arn = record.get("requestContext", {}).get("functionArn", "")
                if arn.split(":")[6:7] != [function_name.split(":")[-1]] and arn != function_name:
                    skipped += 1
                    continue
                answer = _lambda_client().invoke(
                    FunctionName=function_name,
                    InvocationType="Event",
                    Payload=json.dumps(record["requestPayload"]).encode(),
                )
                if answer["StatusCode"] != 202:
                    raise click.ClickException(f"Lambda answered {answer['StatusCode']}; stopped")
                sqs().delete_message(QueueUrl=failure_queue_url, ReceiptHandle=message["ReceiptHandle"])
                redriven += 1
                step(1)
    emit({"redriven": redriven, "other_functions": skipped})


@click.command("cancel-webhooks-flush")
@click.option("--older-than", type=click.IntRange(0, 86_400), default=300, show_default=True, help="seconds")
def cancel_webhooks_flush(older_than) -> None:
    """Queue the cancel-session webhook events still in the outbox after `--older-than` seconds
    (their queueing failed after the change was stored); an event is still delivered once."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.cancel.webhooks import flush_outbox

    emit({"queued": flush_outbox(datetime.now(UTC), timedelta(seconds=older_than))})


COMMANDS = (replay_queue, redrive_async, cancel_webhooks_flush)
