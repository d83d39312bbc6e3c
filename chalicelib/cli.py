"""offboard's operator CLI: `python -m chalicelib.cli --help`.

It talks to DynamoDB directly with the stage's settings from `.chalice/config.json`
(variables already set in the environment win), so it works the same against the embedded
local server, DynamoDB Local, Alternator, or a real account.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_stage_environment(stage: str, config: Path = ROOT / ".chalice" / "config.json") -> None:
    """Set the stage's environment variables the way Chalice does, without overriding the shell."""
    if not config.exists():
        return
    data = json.loads(config.read_text())
    merged = {**data.get("environment_variables", {}), **data["stages"].get(stage, {}).get("environment_variables", {})}
    for name, value in merged.items():
        os.environ.setdefault(name, value)
    if os.environ.get("DYNAMODB_ENDPOINT"):
        # A local endpoint accepts any credentials; never send real ones to it.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


OUT = sys.stdout  # results; logs and metric lines go to stderr


def _print(value) -> None:
    print(json.dumps(value, indent=2, default=str), file=OUT)


def cmd_create_tables(args) -> None:
    from chalicelib.storage.tables import create_tables

    _print({"created": create_tables()})


def cmd_seed_demo(args) -> None:
    from chalicelib.demo import seed_demo

    _print(seed_demo())


def cmd_create_list(args) -> None:
    from chalicelib.errors import BadRequest
    from chalicelib.storage import lists

    branding = {
        k: v for k, v in (("sender_name", args.sender), ("accent_color", args.color), ("logo_url", args.logo)) if v
    }
    try:
        item = lists.create_list(args.list_id, args.name, args.description, branding)
    except lists.ListExists as error:
        raise BadRequest("list_exists", f"list {args.list_id!r} exists") from error
    _print({"list_id": item.list_id, "name": item.name})


def cmd_add(args) -> None:
    from chalicelib.subscriber_admin import add_subscriber

    _print(add_subscriber(args.list_id, args.email, resubscribe=args.resubscribe))


def cmd_import(args) -> None:
    from chalicelib.subscriber_admin import import_csv

    _print(import_csv(args.list_id, Path(args.file).read_text(encoding="utf-8-sig")))


def cmd_headers(args) -> None:
    from chalicelib.senders import headers_for

    _print(headers_for({"email": args.email}, args.list_id, args.campaign).as_dict())


def cmd_check(args) -> None:
    from chalicelib.senders import check_recipients

    _print(check_recipients(args.list_id, args.channel, [{"email": e} for e in args.emails]))


def cmd_export(args) -> None:
    from chalicelib.subscriber_admin import export_consent

    OUT.write(export_consent(args.subscriber_id))


def cmd_create_site(args) -> None:
    from chalicelib.site_admin import create_site

    _print(create_site(args.site_key, args.name, args.origins))


def cmd_put_campaign(args) -> None:
    from chalicelib.errors import BadRequest
    from chalicelib.site_admin import put_campaign

    try:
        body = json.loads(Path(args.file).read_text())
    except ValueError as error:
        raise BadRequest("bad_campaign", f"{args.file} is not JSON: {error}") from error
    _print(put_campaign(args.site_key, args.campaign_id, body))


def cmd_kill(args) -> None:
    from chalicelib.site_admin import set_enabled

    _print(set_enabled(args.site_key, args.campaign_id, args.enable))


def cmd_report(args) -> None:
    from chalicelib.site_admin import campaign_report

    _print(campaign_report(args.site_key, args.campaign_id))


def cmd_validate(args) -> None:
    from chalicelib.offer_service import describe_code

    _print(describe_code(args.code))


def cmd_redeem(args) -> None:
    from chalicelib.offer_service import redeem_code

    status, body = redeem_code(args.code, args.order_ref, args.channel)
    _print(body)
    if status >= 400:
        raise SystemExit(1)


def cmd_sunset_run(args) -> None:
    """Runs the whole job here, the queue kept in memory; emails go through SES (SES_ENDPOINT
    locally) unless --dry-run."""
    from chalicelib import sunset_job
    from chalicelib.storage import sunset_runs
    from chalicelib.sunset_email import send_reminder

    run_id = sunset_job.run_locally(args.dry_run, send_reminder)
    _print(sunset_job.report(sunset_runs.get_run(run_id)))


def cmd_sunset_runs(args) -> None:
    from chalicelib import sunset_job
    from chalicelib.storage import sunset_runs

    if args.run_id:
        run = sunset_runs.get_run(args.run_id)
        _print(sunset_job.report(run) if run else {"error": "no such run"})
    else:
        _print([sunset_job.report(run) for run in sunset_runs.recent_runs()])


def cmd_sunset_policy(args) -> None:
    from chalicelib.storage import lists
    from chalicelib.sunset_policy import parse_policy

    values = {
        k: v
        for k, v in (
            ("inactive_days", args.inactive_days),
            ("min_sends", args.min_sends),
            ("grace_days", args.grace_days),
            ("max_share", args.max_share),
        )
        if v is not None
    }
    policy = parse_policy({**lists.policy_of(args.list_id).as_dict(), **values})
    lists.set_policy(args.list_id, policy)
    _print({"list_id": args.list_id, "sunset": policy.as_dict()})


def _subscriber_id(value: str) -> str:
    from chalicelib.subscriber_admin import find_subscriber

    return find_subscriber(value)["subscriber_id"] if "@" in value else value


def cmd_export_all(args) -> None:
    from chalicelib.subscriber_admin import export_subscriber

    _print(export_subscriber(_subscriber_id(args.who)))


def cmd_erase(args) -> None:
    from chalicelib.subscriber_admin import erase_subscriber

    _print(erase_subscriber(_subscriber_id(args.who)))


def cmd_reasons(args) -> None:
    from chalicelib.subscriber_admin import unsubscribe_reasons

    _print(unsubscribe_reasons(args.list_id, args.first, args.last))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description="offboard operator commands")
    parser.add_argument("--stage", default=os.environ.get("OFFBOARD_STAGE", "dev"))
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("create-tables", help="create the tables if missing").set_defaults(run=cmd_create_tables)
    commands.add_parser("seed-demo", help="a demo list with subscribers; prints a link to try").set_defaults(
        run=cmd_seed_demo
    )

    p = commands.add_parser("create-list", help="create a mailing list")
    p.add_argument("list_id")
    p.add_argument("name")
    p.add_argument("--description")
    p.add_argument("--sender")
    p.add_argument("--color", help="accent colour, #rrggbb")
    p.add_argument("--logo", help="https URL of a logo")
    p.set_defaults(run=cmd_create_list)

    p = commands.add_parser("add", help="subscribe an address to a list")
    p.add_argument("list_id")
    p.add_argument("email")
    p.add_argument("--resubscribe", action="store_true", help="the person gave consent again after unsubscribing")
    p.set_defaults(run=cmd_add)

    p = commands.add_parser("import", help="import a CSV with an 'email' column")
    p.add_argument("list_id")
    p.add_argument("file")
    p.set_defaults(run=cmd_import)

    p = commands.add_parser("headers", help="the List-Unsubscribe headers for one message")
    p.add_argument("list_id")
    p.add_argument("email")
    p.add_argument("--campaign")
    p.set_defaults(run=cmd_headers)

    p = commands.add_parser("check", help="may these addresses be sent to?")
    p.add_argument("list_id")
    p.add_argument("channel", choices=["email", "sms", "push"])
    p.add_argument("emails", nargs="+")
    p.set_defaults(run=cmd_check)

    p = commands.add_parser("create-site", help="a site for exit-intent offers")
    p.add_argument("site_key")
    p.add_argument("name")
    p.add_argument("origins", nargs="+", help="allowed origins, e.g. https://shop.example.com")
    p.set_defaults(run=cmd_create_site)

    p = commands.add_parser("put-campaign", help="create or replace a campaign from a JSON file")
    p.add_argument("site_key")
    p.add_argument("campaign_id")
    p.add_argument("file")
    p.set_defaults(run=cmd_put_campaign)

    p = commands.add_parser("kill", help="the kill switch: stop a campaign (--enable to restart it)")
    p.add_argument("site_key")
    p.add_argument("campaign_id")
    p.add_argument("--enable", action="store_true")
    p.set_defaults(run=cmd_kill)

    p = commands.add_parser("report", help="a campaign's performance per variant, and lift against the holdout")
    p.add_argument("site_key")
    p.add_argument("campaign_id")
    p.set_defaults(run=cmd_report)

    p = commands.add_parser("validate", help="is this code valid now, for what, until when")
    p.add_argument("code")
    p.set_defaults(run=cmd_validate)

    p = commands.add_parser("redeem", help="redeem a code exactly once for an order")
    p.add_argument("code")
    p.add_argument("order_ref")
    p.add_argument("--channel", default="store", choices=["web", "store", "phone", "app"])
    p.set_defaults(run=cmd_redeem)

    p = commands.add_parser("sunset-run", help="run the inactive-subscriber job now, in this process")
    p.add_argument("--dry-run", action="store_true", help="count and sample; change and send nothing")
    p.set_defaults(run=cmd_sunset_run)

    p = commands.add_parser("sunset-runs", help="run reports (the latest, or one by id)")
    p.add_argument("run_id", nargs="?")
    p.set_defaults(run=cmd_sunset_runs)

    p = commands.add_parser("sunset-policy", help="change a list's sunset policy")
    p.add_argument("list_id")
    p.add_argument("--inactive-days", type=int)
    p.add_argument("--min-sends", type=int)
    p.add_argument("--grace-days", type=int)
    p.add_argument("--max-share", type=float)
    p.set_defaults(run=cmd_sunset_policy)

    p = commands.add_parser("reasons", help="exit-survey reasons of a list by month (count and share)")
    p.add_argument("list_id")
    p.add_argument("--from", dest="first", help="first month, e.g. 2026-01")
    p.add_argument("--to", dest="last", help="last month")
    p.set_defaults(run=cmd_reasons)

    p = commands.add_parser("export-all", help="everything held about a subscriber (address or id)")
    p.add_argument("who")
    p.set_defaults(run=cmd_export_all)

    p = commands.add_parser("erase", help="erase a subscriber, keeping only the hashed opt-out")
    p.add_argument("who")
    p.set_defaults(run=cmd_erase)

    p = commands.add_parser("export", help="a subscriber's consent trail as JSON lines")
    p.add_argument("subscriber_id")
    p.set_defaults(run=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    global OUT
    args = build_parser().parse_args(argv)
    OUT, sys.stdout = sys.stdout, sys.stderr
    load_stage_environment(args.stage)
    from chalicelib.errors import BadRequest

    try:
        args.run(args)
    except BadRequest as error:
        print(f"error: {error.code}: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
