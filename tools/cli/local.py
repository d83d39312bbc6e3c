"""Commands for a local stack: tables, demo data, and the queue worker Lambda's SQS event source
stands for in AWS."""

from __future__ import annotations

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


COMMANDS = (create_tables, seed_demo, work_queues)
