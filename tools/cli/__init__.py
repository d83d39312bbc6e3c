"""offboard's operator CLI: `.venv/bin/python -m tools.cli --help`.

It talks to DynamoDB (and SQS, SES) directly with the stage's settings from
`.chalice/config.json` (variables already set in the environment win), so it works the same
against the embedded local server, DynamoDB Local, Alternator, or a real account. Results are
JSON on standard output; long work shows a progress bar on a terminal (standard error) and
nothing extra when piped. Not shipped to Lambda.

The commands live by job: `subscribers` (lists, subscribers, consent), `offers` (sites,
campaigns, codes), `sunset` (the inactive-subscriber job), `failures` (dead letters and failed
asynchronous invocations) and `local` (tables, demo data, the local queue worker).
"""

from __future__ import annotations

import os

import click

from tools.cli import failures, local, offers, preflight, subscribers, sunset
from tools.cli.output import keep_results_apart
from tools.stage import UnknownStage, load_stage_environment


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
    try:
        load_stage_environment(stage)
    except UnknownStage as error:
        raise click.BadParameter(str(error), param_hint="--stage") from None
    keep_results_apart()


for module in (local, subscribers, offers, sunset, failures, preflight):
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
