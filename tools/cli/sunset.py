"""Commands for the inactive-subscriber job: run it here, read its reports, change a list's policy."""

from __future__ import annotations

import click

from tools.cli.output import emit, progress


@click.command("sunset-run")
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


@click.command("sunset-runs")
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


@click.command("sunset-policy")
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


COMMANDS = (sunset_run, sunset_runs_command, sunset_policy)
