"""Commands for a local stack: tables, demo data, and the queue worker Lambda's SQS event source
stands for in AWS."""

from __future__ import annotations

import json

import click

from tools.cli import output
from tools.cli.output import emit


@click.command("create-tables")
def create_tables() -> None:
    """Create the tables if missing (local servers, tests; production tables come from infra/)."""
    from chalicelib.storage.tables import create_tables as create

    emit({"created": create()})


@click.command("seed-demo")
def seed_demo() -> None:
    """Demo lists, subscribers and a demo shop; prints a link to try."""
    from tools.demo import seed_demo as seed

    emit(seed())


@click.command("work-queues")
@click.argument("queue_urls", nargs=-1, metavar="[QUEUE_URL]...")
@click.option("--wait", type=click.IntRange(1, 20), default=10, show_default=True, help="long-poll seconds")
@click.option(
    "--retry-after",
    type=click.IntRange(0, 43_200),
    default=5,
    show_default=True,
    help="seconds before a failed message is delivered again (AWS: the queue's visibility timeout)",
)
@click.option("--until-empty", is_flag=True, help="stop once every queue is empty (nothing visible or in flight)")
def work_queues(queue_urls, wait, retry_after, until_empty) -> None:
    """Run queued work locally, as Lambda's SQS event source does in AWS (default queues:
    UNSUBSCRIBE_QUEUE_URL and SUNSET_QUEUE_URL). Each queue is long-polled one message at a time
    (the handlers' batch size) and the message handed to the Lambda handler subscribed to that
    queue name (`deferred_unsubscribe`, `sunset_step`) with an SQS event and a context carrying
    the function's timeout. A message is deleted only after its handler returned; a failure
    leaves it for another delivery, and the queue's redrive policy moves it to the dead-letter
    queue after `maxReceiveCount` deliveries. One JSON line per delivery on standard output."""
    from tools.queue_worker import NotWorkable
    from tools.queue_worker import work_queues as work

    try:
        work(list(queue_urls), wait, retry_after, until_empty, output.OUT)
    except NotWorkable as error:
        raise click.UsageError(str(error)) from None


@click.command("webhook-receiver")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: a free port")
@click.option("--register", "business", help="point this business's cancellation webhooks here (a new secret)")
@click.option("--secret", "secrets", multiple=True, help="a signing secret to verify with (repeatable)")
@click.option("--script", default="", help="faults for the first requests, e.g. fail,timeout,slow (then ok)")
@click.option("--slow-seconds", type=float, default=3.0, show_default=True)
def webhook_receiver(host, port, business, secrets, script, slow_seconds) -> None:
    """A local endpoint for the cancellation webhooks: verifies each signature, prints one JSON
    line per delivery and lists them all at GET <url>; `--script` (or POST <url>/_script a JSON
    list) makes it fail (500), time out or answer slowly, to watch the retries."""
    from chalicelib.cancel import webhooks
    from tools.webhook_receiver import ANSWERS, Receiver, serve

    words = [w for w in script.split(",") if w]
    if not all(w in ANSWERS for w in words):
        raise click.UsageError(f"--script takes words among {', '.join(ANSWERS)}")
    receiver = Receiver(
        list(secrets), words, host, port, timeout_seconds=webhooks.TIMEOUT_SECONDS + 5, slow_seconds=slow_seconds
    )
    if business:
        from chalicelib.cancel.service import set_webhook

        receiver.secrets = [set_webhook(business, receiver.url)["secret"], *secrets]
    listing = receiver.url.removesuffix("/hooks") + "/"
    print(json.dumps({"url": receiver.url, "listing": listing, "business": business}), file=output.OUT, flush=True)
    serve(receiver, output.OUT)


COMMANDS = (create_tables, seed_demo, work_queues, webhook_receiver)
