"""The operator CLI against the embedded DynamoDB server."""

import json
import os
import subprocess
import sys

import pytest

from tests.documented import local_cli_settings
from tests.helpers import ROOT
from tools.demo import DEMO_ACTIVE_MEMBERS

pytestmark = pytest.mark.server


def test_operators_manage_campaigns_and_codes_from_the_cli(local_stack, tmp_path):
    campaign = tmp_path / "campaign.json"
    campaign.write_text(json.dumps({"offer": {"kind": "free_shipping"}, "budget": {"total_codes": 5}}))
    assert (
        json.loads(local_stack.cli("create-site", "cli-shop", "CLI shop", "https://cli.example"))["site_key"]
        == "cli-shop"
    )
    assert (
        json.loads(local_stack.cli("put-campaign", "cli-shop", "ship", str(campaign)))["campaign"]["budget"][
            "total_codes"
        ]
        == 5
    )
    assert json.loads(local_stack.cli("kill", "cli-shop", "ship"))["enabled"] is False
    assert json.loads(local_stack.cli("kill", "cli-shop", "ship", "--enable"))["enabled"] is True
    report = json.loads(local_stack.cli("report", "cli-shop", "ship"))
    assert report["campaign_id"] == "ship" and report["arms"] == []
    with pytest.raises(subprocess.CalledProcessError) as failure:
        local_stack.cli("validate", "ABCDE-FGHJK")
    assert failure.value.returncode == 2 and "unknown_code" in failure.value.stderr


def test_subscribers_from_the_cli(local_stack, tmp_path):
    people = tmp_path / "people.csv"
    people.write_text("email\ncli-one@example.com\ncli-two@example.com\nnot-an-address\n")
    assert json.loads(local_stack.cli("import", "newsletter", str(people)))["counts"] == {
        "applied": 2,
        "already_there": 0,
        "refused": 1,
    }
    headers = json.loads(local_stack.cli("headers", "newsletter", "cli-one@example.com"))
    assert headers["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    checked = json.loads(local_stack.cli("check", "newsletter", "sms", "cli-one@example.com", "nobody@example.com"))
    assert [c["allowed"] for c in checked] == [True, False]
    sid = checked[0]["subscriber_id"]
    assert [json.loads(line)["action"] for line in local_stack.cli("export", sid).splitlines()] == ["subscribe"]


def as_the_docs_show(stack) -> dict:
    """The environment of a newcomer's second shell, as docs/try.md ("The CLI") shows it: the
    variables its `export` line names, with this stack's values, and none of the endpoints and URLs
    run-local exported to its own processes."""
    values = {
        "DYNAMODB_ENDPOINT": stack.env["DYNAMODB_ENDPOINT"],
        "PORT": str(stack.api_port),
        "SQS_PORT": str(stack.sqs_port),
    }
    named = local_cli_settings()
    assert set(named) <= set(values), f"docs/try.md exports {named}: which of this stack's values are they?"
    env = {
        name: value
        for name, value in stack.env.items()
        if name not in ("SQS_ENDPOINT", "SES_ENDPOINT", "PUBLIC_BASE_URL", *values) and not name.endswith("_QUEUE_URL")
    }
    return {**env, **{name: values[name] for name in named}}


def run_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_sunset_job_runs_from_the_cli_on_the_demo_data(local_stack):
    """`sunset-run` run as docs/try.md and docs/operate.md show it sends through run-local's SES (it sent nothing
    before: the CLI pointed SES at a port where nothing listens)."""
    env = as_the_docs_show(local_stack)

    def sunset_run(*args):
        done = run_cli(env, "sunset-run", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    dry = sunset_run("--dry-run")
    assert dry["dry_run"] and dry["per_list"]["newsletter"]["remind"] == 3 and dry["outcomes"]["emailed"] == 0
    real = sunset_run()
    assert real["status"] == "done" and real["outcomes"]["emailed"] == 3 and real["braked_lists"] == []
    assert real["outcomes"]["email_failed"] == 0 and real["outcomes"]["emails_sent"] == 3
    again = sunset_run()
    assert again["outcomes"]["emailed"] == 0
    listed = json.loads(local_stack.cli("sunset-runs"))
    assert [r["run_id"] for r in listed][:3] == [again["run_id"], real["run_id"], dry["run_id"]]
    [shown] = [
        r for r in local_stack.admin("GET", "/v1/reports/sunset").json()["runs"] if r["run_id"] == real["run_id"]
    ]
    # The stack is shared by the session: other tests' undos make more members due (an undo
    # restarts the clock now), so the demo's active members are a floor, and the report must say
    # what the run counted.
    assert shown["funnel"]["emailed"] == 3 and shown["not_emailed"]["email_failed"] == 0
    assert shown["not_emailed"]["rescheduled"] == real["outcomes"]["rescheduled"] >= DEMO_ACTIVE_MEMBERS


def test_cli_links_follow_port(local_stack):
    """run-local serves the API on PORT; the links the CLI prints point there."""
    done = run_cli(as_the_docs_show(local_stack), "headers", "newsletter", "port@example.com")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["unsubscribe_url"].startswith(f"http://127.0.0.1:{local_stack.api_port}/u/")


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ({}, "DYNAMODB_ENDPOINT=http://127.0.0.1:8001"),
        ({"DYNAMODB_ENDPOINT": "http://127.0.0.1:9"}, "nothing answers at DYNAMODB_ENDPOINT=http://127.0.0.1:9"),
    ],
)
def test_a_cli_without_storage_settings_says_what_to_set(tmp_path, setting, says):
    """No DYNAMODB_ENDPOINT and no AWS credentials anywhere (environment, files, instance
    metadata), or an endpoint where nothing listens: one line naming what to set, exit 3."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        **setting,
    }
    done = run_cli(env, "check", "newsletter", "email", "a@example.com")
    assert done.returncode == 3 and done.stdout == ""
    assert says in done.stderr and "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    if not setting:
        assert "AWS_ACCESS_KEY_ID" in done.stderr and "AWS_PROFILE" in done.stderr


def test_every_command_is_registered_once_under_its_name():
    """The commands live in one module per job (tools/cli/); the group has every one of them."""
    from tools.cli import cli

    assert sorted(cli.commands) == sorted(
        [
            *("create-tables", "seed-demo", "work-queues", "webhook-receiver"),
            *("create-list", "add", "import", "headers", "check", "export", "export-all", "erase", "reasons"),
            *("lists", "show-list", "edit-list"),
            *("create-site", "put-campaign", "kill", "report", "validate", "redeem"),
            *("sites", "show-site", "edit-site", "campaigns", "show-campaign", "edit-campaign"),
            *("sunset-run", "sunset-runs", "sunset-policy"),
            *("replay-queue", "redrive-async", "cancel-webhooks-flush"),
            "report-link",
            "doctor",
            "preflight",
        ]
    )


def test_an_unknown_stage_is_a_usage_error_naming_the_option(capsys):
    from tools.cli import main

    assert main(["--stage", "nowhere", "headers", "newsletter", "a@example.com"]) == 2
    assert "Invalid value for --stage: no stage 'nowhere'" in capsys.readouterr().err
