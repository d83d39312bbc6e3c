"""The operator CLI against the embedded DynamoDB server."""

import json
import subprocess

import pytest

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
        "subscribed": 2,
        "rejected": 1,
    }
    headers = json.loads(local_stack.cli("headers", "newsletter", "cli-one@example.com"))
    assert headers["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    checked = json.loads(local_stack.cli("check", "newsletter", "sms", "cli-one@example.com", "nobody@example.com"))
    assert [c["allowed"] for c in checked] == [True, False]
    sid = checked[0]["subscriber_id"]
    assert [json.loads(line)["action"] for line in local_stack.cli("export", sid).splitlines()] == ["subscribe"]


def test_the_sunset_job_runs_from_the_cli_on_the_demo_data(local_stack):
    dry = json.loads(local_stack.cli("sunset-run", "--dry-run"))
    assert dry["dry_run"] and dry["per_list"]["newsletter"]["remind"] == 3 and dry["outcomes"]["emailed"] == 0
    real = json.loads(local_stack.cli("sunset-run"))
    assert real["status"] == "done" and real["outcomes"]["emailed"] == 3 and real["braked_lists"] == []
    again = json.loads(local_stack.cli("sunset-run"))
    assert again["outcomes"]["emailed"] == 0
    listed = json.loads(local_stack.cli("sunset-runs"))
    assert [r["run_id"] for r in listed][:3] == [again["run_id"], real["run_id"], dry["run_id"]]


def test_every_command_is_registered_once_under_its_name():
    """The commands live in one module per job (tools/cli/); the group has every one of them."""
    from tools.cli import cli

    assert sorted(cli.commands) == sorted(
        [
            *("create-tables", "seed-demo", "work-queues"),
            *("create-list", "add", "import", "headers", "check", "export", "export-all", "erase", "reasons"),
            *("create-site", "put-campaign", "kill", "report", "validate", "redeem"),
            *("sunset-run", "sunset-runs", "sunset-policy"),
            *("replay-queue", "redrive-async"),
            "preflight",
        ]
    )


def test_an_unknown_stage_is_a_usage_error_naming_the_option(capsys):
    from tools.cli import main

    assert main(["--stage", "nowhere", "headers", "newsletter", "a@example.com"]) == 2
    assert "Invalid value for --stage: no stage 'nowhere'" in capsys.readouterr().err
