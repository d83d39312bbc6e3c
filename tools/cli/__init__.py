"""offboard's operator CLI: `.venv/bin/python -m tools.cli --help`.

It talks to DynamoDB (and SQS, SES) directly with the stage's settings from
`.chalice/config.json` (variables already set in the environment win), so it works the same
against the embedded local server, DynamoDB Local, Alternator, or a real account. Results are
JSON on standard output; long work shows a progress bar on a terminal (standard error) and
nothing extra when piped. Not shipped to Lambda.

The commands live by job: `subscribers` (lists, subscribers, consent), `offers` (sites,
campaigns, codes), `sunset` (the inactive-subscriber job), `failures` (dead letters and failed
asynchronous invocations), `doctor` (a stage's readiness), `reports` (signed links to report
pages) and `local` (tables, demo data, the local queue worker).
"""

from __future__ import annotations

import os

import click

from tools.cli import doctor, failures, local, offers, preflight, reports, subscribers, sunset
from tools.cli.output import keep_results_apart
from tools.stage import UnknownStage, load_stage_environment


def _causes(error: BaseException):
    while error is not None:
        yield error
        error = error.__cause__ or error.__context__


def what_to_set(error: BaseException) -> tuple[str, str] | None:
    """(kind, what to do) when storage is out of reach for a setting missing or a local server
    not running, else None."""
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError, NoRegionError

    for cause in _causes(error):
        if isinstance(cause, NoCredentialsError):
            return "settings", (
                "no DYNAMODB_ENDPOINT and no AWS credentials. For the local stack set "
                "DYNAMODB_ENDPOINT=http://127.0.0.1:8001 (where scripts/run-local serves DynamoDB; "
                "DYNAMODB_PORT if you changed it); for AWS set credentials (AWS_PROFILE, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and pick the stage with --stage"
            )
        if isinstance(cause, NoRegionError):
            return "settings", "no AWS region: set AWS_DEFAULT_REGION (e.g. us-east-1)"
        if isinstance(cause, EndpointConnectionError):
            endpoint = os.environ.get("DYNAMODB_ENDPOINT")
            if endpoint and endpoint.rstrip("/") in str(cause.kwargs.get("endpoint_url", "")).rstrip("/"):
                return "unavailable", (
                    f"nothing answers at DYNAMODB_ENDPOINT={endpoint}: start scripts/run-local, "
                    "or set DYNAMODB_ENDPOINT to where your DynamoDB listens"
                )
            return (
                "unavailable",
                f"nothing answers at {cause.kwargs.get('endpoint_url')}: is scripts/run-local running (SQS_PORT)?",
            )
    return None


class ServiceErrors(click.Group):
    """Errors a service names (bad input, not found, ...) are one line on stderr and exit code 2;
    storage or AWS out of reach, or a setting missing, is one line saying what to set and exit
    code 3. Never a traceback."""

    def invoke(self, ctx):
        from botocore.exceptions import BotoCoreError
        from pynamodb.exceptions import PynamoDBException

        from chalicelib.core.errors import ServiceError, Unavailable
        from chalicelib.core.settings import ConfigurationError

        try:
            return super().invoke(ctx)
        except Unavailable as error:  # storage out of reach (it raises only core.errors): say what to set
            kind, text = what_to_set(error) or ("unavailable", str(error))
            click.echo(f"error: {kind}: {text}", err=True)
            raise SystemExit(3) from None
        except ServiceError as error:
            click.echo(f"error: {error.code}: {error}", err=True)
            raise SystemExit(2) from None
        except ConfigurationError as error:
            click.echo(f"error: settings: {error}", err=True)
            raise SystemExit(3) from None
        except (PynamoDBException, BotoCoreError) as error:
            kind, text = what_to_set(error) or ("unavailable", str(error))
            click.echo(f"error: {kind}: {text}", err=True)
            raise SystemExit(3) from None


@click.group(cls=ServiceErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--stage", default=lambda: os.environ.get("OFFBOARD_STAGE", "dev"), show_default="dev")
def cli(stage: str) -> None:
    """offboard operator commands."""
    try:
        load_stage_environment(stage)
    except UnknownStage as error:
        raise click.BadParameter(str(error), param_hint="--stage") from None
    keep_results_apart()


for module in (local, subscribers, offers, sunset, failures, doctor, reports, preflight):
    for command in module.COMMANDS:
        cli.add_command(command)


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
