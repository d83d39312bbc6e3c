"""offboard's operator CLI: `.venv/bin/python -m tools.cli --help`.

It talks to DynamoDB (and SQS, SES) directly with the stage's settings from
`.chalice/config.json` (variables already set in the environment win), so it works the same
against the embedded local server, DynamoDB Local, Alternator, or a real account. Results are
JSON on standard output; long work shows a progress bar on a terminal (standard error) and
nothing extra when piped. Not shipped to Lambda.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
OUT = sys.stdout  # results; logs and metric lines go to stderr


def load_stage_environment(stage: str, config: Path = ROOT / ".chalice" / "config.json") -> None:
    """Set the stage's environment variables the way Chalice does, without overriding the shell."""
    if not config.exists():
        return
    data = json.loads(config.read_text())
    if stage not in data["stages"]:
        raise click.BadParameter(f"no stage {stage!r} in {config}", param_hint="--stage")
    merged = {**data.get("environment_variables", {}), **data["stages"][stage].get("environment_variables", {})}
    for name, value in merged.items():
        os.environ.setdefault(name, value)
    endpoint = os.environ.get("DYNAMODB_ENDPOINT", "")
    if endpoint.startswith(("http://127.0.0.1", "http://localhost")) and not os.environ.get("SES_ENDPOINT"):
        # A local stack: email goes to the local SES (run-local serves it with SQS), never to AWS.
        if os.environ.get("SQS_ENDPOINT"):
            os.environ["SES_ENDPOINT"] = os.environ["SQS_ENDPOINT"]
        else:
            os.environ["SES_ENDPOINT"] = "http://127.0.0.1:1"  # nothing listens: sending fails, locally
    if os.environ.get("DYNAMODB_ENDPOINT"):
        # A local endpoint accepts any credentials; never send real ones to it.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def emit(value) -> None:
    print(json.dumps(value, indent=2, default=str), file=OUT)


@contextmanager
def progress(length: int | None, label: str):
    """A progress bar on a terminal; a silent counter when standard error is not one."""
    if not sys.stderr.isatty():
        yield lambda n=1: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


class ServiceErrors(click.Group):
    """Errors a service names (bad input, not found, ...) are one line on stderr and exit code 2;
    storage or AWS out of reach is one line and exit code 3. Never a traceback."""

    def invoke(self, ctx):
        from botocore.exceptions import BotoCoreError
        from pynamodb.exceptions import PynamoDBException

        from chalicelib.core.errors import ServiceError

        try:
            return super().invoke(ctx)
        except ServiceError as error:
            click.echo(f"error: {error.code}: {error}", err=True)
            raise SystemExit(2) from None
        except (PynamoDBException, BotoCoreError) as error:
            click.echo(f"error: unavailable: {error}", err=True)
            raise SystemExit(3) from None


@click.group(cls=ServiceErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--stage", default=lambda: os.environ.get("OFFBOARD_STAGE", "dev"), show_default="dev")
def cli(stage: str) -> None:
    """offboard operator commands."""
    global OUT
    load_stage_environment(stage)
    if sys.stdout is not sys.stderr:
        OUT, sys.stdout = sys.stdout, sys.stderr  # the service's log lines must not mix with results


# Set-up.


@cli.command("create-tables")
def create_tables() -> None:
    """Create the tables if missing (local servers, tests; production tables come from infra/)."""
    from chalicelib.storage.tables import create_tables as create

    emit({"created": create()})


@cli.command("seed-demo")
def seed_demo() -> None:
    """Demo lists, subscribers and a demo shop; prints a link to try."""
    from tools.demo import seed_demo as seed

    emit(seed())


# Lists and subscribers.


@cli.command("create-list")
@click.argument("list_id")
@click.argument("name")
@click.option("--description")
@click.option("--sender", help="sender name shown on the pages")
@click.option("--color", help="accent colour, #rrggbb")
@click.option("--logo", help="https URL of a logo")
def create_list(list_id, name, description, sender, color, logo) -> None:
    """Create a mailing list."""
    from chalicelib.unsubscribe import admin

    branding = {k: v for k, v in (("sender_name", sender), ("accent_color", color), ("logo_url", logo)) if v}
    emit(admin.create_list(list_id, name, description, branding))


@cli.command("add")
@click.argument("list_id")
@click.argument("email")
@click.option("--resubscribe", is_flag=True, help="the person gave consent again after unsubscribing")
def add(list_id, email, resubscribe) -> None:
    """Subscribe an address to a list."""
    from chalicelib.unsubscribe import admin

    emit(admin.add_subscriber(list_id, email, resubscribe=resubscribe))


@cli.command("import")
@click.argument("list_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_csv(list_id, file) -> None:
    """Import a CSV with an 'email' column (who unsubscribed before stays unsubscribed)."""
    from chalicelib.core.errors import Invalid
    from chalicelib.unsubscribe import admin

    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid("bad_csv", f"{file} is not UTF-8 (save it as UTF-8 and try again)") from error
    with progress(max(text.count("\n") - 1, 0), "importing") as step:
        emit(admin.import_csv(list_id, text, progress=step))


@cli.command("headers")
@click.argument("list_id")
@click.argument("email")
@click.option("--campaign")
def headers(list_id, email, campaign) -> None:
    """The List-Unsubscribe headers for one message."""
    from chalicelib.unsubscribe.senders import headers_for

    emit(headers_for({"email": email}, list_id, campaign).as_dict())


@cli.command("check")
@click.argument("list_id")
@click.argument("channel", type=click.Choice(["email", "sms", "push"]))
@click.argument("emails", nargs=-1, required=True)
def check(list_id, channel, emails) -> None:
    """May these addresses be sent to on this channel?"""
    from chalicelib.unsubscribe.senders import check_recipients

    emit(check_recipients(list_id, channel, [{"email": e} for e in emails]))


@cli.command("export")
@click.argument("subscriber_id")
def export(subscriber_id) -> None:
    """A subscriber's consent trail as JSON lines."""
    from chalicelib.unsubscribe import admin

    OUT.write(admin.export_consent(subscriber_id))


def _subscriber_id(value: str) -> str:
    from chalicelib.unsubscribe import admin

    return admin.find_subscriber(value)["subscriber_id"] if "@" in value else value


@cli.command("export-all")
@click.argument("who")
def export_all(who) -> None:
    """Everything held about a subscriber (address or id)."""
    from chalicelib.unsubscribe import admin

    emit(admin.export_subscriber(_subscriber_id(who)))


@cli.command("erase")
@click.argument("who", nargs=-1, required=True)
def erase(who) -> None:
    """Erase subscribers (addresses or ids), keeping only the hashed opt-out."""
    from chalicelib.core.errors import NotFound
    from chalicelib.unsubscribe import admin

    results = []
    with progress(len(who), "erasing") as step:
        for one in who:
            try:
                results.append(admin.erase_subscriber(_subscriber_id(one)))
            except NotFound:
                results.append({"subscriber_id": _subscriber_id(one), "error": "unknown_subscriber"})
            step(1)
    emit(results[0] if len(results) == 1 and "error" not in results[0] else results)


@cli.command("reasons")
@click.argument("list_id")
@click.option("--from", "first", help="first month, e.g. 2026-01")
@click.option("--to", "last", help="last month")
def reasons(list_id, first, last) -> None:
    """Exit-survey reasons of a list by month (count and share)."""
    from chalicelib.unsubscribe import admin

    emit(admin.unsubscribe_reasons(list_id, first, last))


# Exit-intent offers.


@cli.command("create-site")
@click.argument("site_key")
@click.argument("name")
@click.argument("origins", nargs=-1, required=True)
def create_site(site_key, name, origins) -> None:
    """A site for exit-intent offers, with the origins its pages are served from."""
    from chalicelib.offers import admin

    emit(admin.create_site(site_key, name, list(origins)))


@cli.command("put-campaign")
@click.argument("site_key")
@click.argument("campaign_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def put_campaign(site_key, campaign_id, file) -> None:
    """Create or replace a campaign from a JSON file."""
    from chalicelib.core.errors import Invalid
    from chalicelib.offers import admin

    try:
        body = json.loads(Path(file).read_text())
    except ValueError as error:
        raise Invalid("bad_campaign", f"{file} is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise Invalid("bad_campaign", f"{file} must hold a JSON object")
    emit(admin.put_campaign(site_key, campaign_id, body))


@cli.command("kill")
@click.argument("site_key")
@click.argument("campaign_id")
@click.option("--enable", is_flag=True, help="restart the campaign instead")
def kill(site_key, campaign_id, enable) -> None:
    """The kill switch: stop a campaign (--enable to restart it)."""
    from chalicelib.offers import admin

    emit(admin.set_enabled(site_key, campaign_id, enable))


@cli.command("report")
@click.argument("site_key")
@click.argument("campaign_id")
def report(site_key, campaign_id) -> None:
    """A campaign's performance per variant, and lift against the holdout."""
    from chalicelib.offers import admin

    emit(admin.campaign_report(site_key, campaign_id))


@cli.command("validate")
@click.argument("code")
def validate(code) -> None:
    """Is this code valid now, for what, until when."""
    from chalicelib.offers.routes import code_body
    from chalicelib.offers.service import describe_code

    emit(code_body(describe_code(code)))


@cli.command("redeem")
@click.argument("code")
@click.argument("order_ref")
@click.option("--channel", default="store", type=click.Choice(["web", "store", "phone", "app"]), show_default=True)
@click.option("--order-value", type=float, help="the order's value (campaigns with a minimum order)")
@click.option("--currency", help="the order's currency, e.g. USD")
@click.option("--store", "store_id", help="the store's id (campaigns limited to some stores)")
@click.option("--customer", "customer_id", help="the shop's customer id (campaigns limited per customer; hashed)")
@click.option("--first-order", is_flag=True, help="this is the customer's first order")
def redeem(code, order_ref, channel, order_value, currency, store_id, customer_id, first_order) -> None:
    """Redeem a code exactly once for an order (exit code 1 when it was not redeemed now or before for this order)."""
    from chalicelib.offers.routes import parse_till_request, till_answer
    from chalicelib.offers.service import redeem_code

    till = {"order_ref": order_ref, "channel": channel, "order_value": order_value, "currency": currency}
    status, body = till_answer(
        redeem_code(
            code,
            parse_till_request(
                {**till, "store_id": store_id, "customer_id": customer_id, "first_order": True if first_order else None}
            ),
        )
    )
    emit(body)
    if status >= 400:
        raise SystemExit(1)


# The sunset job.


@cli.command("sunset-run")
@click.option("--dry-run", is_flag=True, help="count and sample; change and send nothing")
def sunset_run(dry_run) -> None:
    """Run the inactive-subscriber job now, in this process; emails go through SES (SES_ENDPOINT
    locally) unless --dry-run."""
    from chalicelib.storage import sunset_runs
    from chalicelib.sunset import job
    from chalicelib.sunset.email import send_reminder

    with progress(None, "sunset run") as step:
        run_id = job.run_locally(dry_run, send_reminder, on_step=step)
    emit(job.report(sunset_runs.get_run(run_id)))


@cli.command("sunset-runs")
@click.argument("run_id", required=False)
def sunset_runs_command(run_id) -> None:
    """Run reports: the latest, or one by id."""
    from chalicelib.core.errors import NotFound
    from chalicelib.storage import sunset_runs
    from chalicelib.sunset import job

    if run_id:
        run = sunset_runs.get_run(run_id)
        if run is None:
            raise NotFound("unknown_run", "no such run")
        emit(job.report(run))
    else:
        emit([job.report(run) for run in sunset_runs.recent_runs()])


@cli.command("sunset-policy")
@click.argument("list_id")
@click.option("--inactive-days", type=int)
@click.option("--min-sends", type=int)
@click.option("--grace-days", type=int)
@click.option("--max-share", type=float, help="share of the list one run may act on")
@click.option("--max-share-7d", type=float, help="share of the list acted on in the last 7 days")
@click.option("--max-share-30d", type=float, help="share of the list acted on in the last 30 days")
def sunset_policy(list_id, **changes) -> None:
    """Change a list's sunset policy (options not given keep their value)."""
    from chalicelib.core.errors import NotFound
    from chalicelib.storage import lists
    from chalicelib.sunset.policy import parse_policy, policy_of

    values = {k: v for k, v in changes.items() if v is not None}
    policy = parse_policy({**policy_of(list_id).as_dict(), **values})
    if not lists.set_sunset_policy(list_id, policy.as_dict()):
        raise NotFound("unknown_list", "this list does not exist")
    emit({"list_id": list_id, "sunset": policy.as_dict()})


# Queues.


def _receive(queue_url: str, left: int) -> list[dict]:
    """Up to ten messages (no more than `left`), waiting a second for them."""
    from chalicelib.core.aws import sqs

    answer = sqs().receive_message(QueueUrl=queue_url, MaxNumberOfMessages=min(10, left), WaitTimeSeconds=1)
    return answer.get("Messages", [])


@cli.command("replay-queue")
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


# The local queue worker: what Lambda's SQS event source does in AWS.


def _lambda_settings(function: str) -> tuple[int, int]:
    """(timeout ms, memory MB) of a function, from `.chalice/config.json` as `chalice package` reads them."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    own = config.get("lambda_functions", {}).get(function, {})
    timeout = own.get("lambda_timeout", config.get("lambda_timeout", 60))
    return timeout * 1000, own.get("lambda_memory_size", config.get("lambda_memory_size", 128))


def _sqs_event(message: dict, queue_url: str, region: str) -> dict:
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


@cli.command("work-queues")
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
    import threading
    import time

    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError
    from chalice.app import SQSEventConfig
    from chalice.local import LambdaContext

    from app import app
    from chalicelib.core.observability import logger
    from chalicelib.core.settings import get_settings

    settings = get_settings()
    urls = list(queue_urls) or [u for u in (settings.unsubscribe_queue_url, settings.sunset_queue_url) if u]
    if not urls:
        raise click.UsageError("no queue: pass queue URLs or set UNSUBSCRIBE_QUEUE_URL / SUNSET_QUEUE_URL")
    subscribed = {e.queue: e.name for e in app.event_sources if isinstance(e, SQSEventConfig)}
    functions = {}
    for url in urls:
        name = url.rstrip("/").rsplit("/", 1)[-1]
        if name not in subscribed:
            raise click.UsageError(f"no handler subscribes to the queue {name!r} (handlers: {subscribed})")
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
            print(json.dumps(line), file=OUT, flush=True)

    def deliver(url: str, function: str, message: dict) -> str:
        timeout_ms, memory = _lambda_settings(function)
        try:
            app.handler_map[function](
                _sqs_event(message, url, settings.region), LambdaContext(function, memory, timeout_ms)
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
    click.echo(f"working {', '.join(f'{fn} <- {url}' for url, fn in functions.items())}", err=True)
    while any(thread.is_alive() for thread in threads) and not failures:
        for thread in threads:
            thread.join(timeout=0.5)
    if failures:
        raise failures[0]


# Failed asynchronous invocations (issue 10).


def _lambda_client():
    import boto3

    from chalicelib.core.settings import get_settings

    return boto3.client("lambda", region_name=get_settings().region)


@cli.command("redrive-async")
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


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="python -m tools.cli", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
