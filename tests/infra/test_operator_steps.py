"""docs/deploy.md's step 7 and docs/operate.md's report links, as written: an operator's CLI on the
prod stage, against moto.

The CLI reads the secrets from SSM like the functions do, but not the stack's parameters; without
step 7's `export` it stops naming `PUBLIC_BASE_URL` (exit 3), and with it the step's command and
operate.md's `report-link` lines print signed links on the base URL the deploy of step 4 configured."""

from __future__ import annotations

import json

import boto3
import moto

from tests.documented import (
    DOCS,
    cli_arguments,
    commands,
    deploy_steps,
    exported,
    fenced_blocks,
    section,
    ssm_parameters,
    stack_parameters,
    step,
)
from tests.infra.conftest import ROOT


def prod_shell(monkeypatch) -> None:
    """An operator's shell: AWS credentials, no local endpoint, none of the dev stage's settings."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for name in [*config["stages"]["dev"]["environment_variables"], "DYNAMODB_ENDPOINT", "PUBLIC_BASE_URL"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**config["environment_variables"], **config["stages"]["prod"]["environment_variables"]}.items():
        monkeypatch.setenv(name, value)


def run(arguments: list[str]) -> int:
    """The CLI's exit code, as the shell sees it."""
    from tools.cli import main

    try:
        return main(arguments)
    except SystemExit as done:
        return done.code


def test_step_7_as_written_gives_the_operators_cli_what_it_needs(monkeypatch, capsys):
    from chalicelib.core.settings import forget_settings

    [export] = commands(step(7), "export ")
    [command] = commands(step(7), "python -m tools.cli")
    arguments = cli_arguments(command)
    assert arguments[:2] == ["--stage", "prod"]
    settings = exported(export)
    deployed_with = stack_parameters(deploy_steps())
    # The values are step 4's stack parameters, the ones the functions get.
    assert settings == {
        "PUBLIC_BASE_URL": deployed_with["PublicBaseUrl"],
        "SUNSET_EMAIL_FROM": deployed_with["SunsetEmailFrom"],
    }

    prod_shell(monkeypatch)
    with moto.mock_aws():
        for name, (kind, value) in ssm_parameters(deploy_steps()).items():
            boto3.client("ssm").put_parameter(Name=name, Type=kind, Value=value)

        forget_settings()
        assert run(arguments) == 3  # without the export: what to set, not a traceback
        assert "PUBLIC_BASE_URL" in capsys.readouterr().err

        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        forget_settings()
        assert run(arguments) == 0
    link = json.loads(capsys.readouterr().out)
    assert link["url"].startswith(f"{deployed_with['PublicBaseUrl']}/reports/sunset?")
    forget_settings()


def test_the_report_links_of_operate_md_as_written(monkeypatch, capsys):
    """docs/operate.md's `report-link` lines, in the shell step 7 sets up (optional `[--open]` left
    out): each prints a link to its page on the configured base URL, valid for its minutes."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.core.settings import forget_settings

    [block] = fenced_blocks(section(DOCS / "operate.md", "Report pages in a browser"))
    lines = commands(block, "python -m tools.cli")
    [export] = commands(step(7), "export ")
    prod_shell(monkeypatch)
    for name, value in exported(export).items():
        monkeypatch.setenv(name, value)
    base = stack_parameters(deploy_steps())["PublicBaseUrl"]
    pages = []
    with moto.mock_aws():
        for name, (kind, value) in ssm_parameters(deploy_steps()).items():
            boto3.client("ssm").put_parameter(Name=name, Type=kind, Value=value)
        for line in lines:
            arguments = [word for word in cli_arguments(line) if word != "[--open]"]
            forget_settings()
            assert run(arguments) == 0, line
            link = json.loads(capsys.readouterr().out)
            assert link["url"].startswith(base + "/reports/"), link
            minutes = int(arguments[arguments.index("--minutes") + 1]) if "--minutes" in arguments else 10
            expires = datetime.fromisoformat(link["expires_at"])
            assert expires <= datetime.now(UTC) + timedelta(minutes=minutes, seconds=5)
            pages.append(link["url"][len(base) :].split("?")[0])
    forget_settings()
    assert pages == ["/reports/leaving", "/reports/sunset", "/reports/sites/demo-shop/campaigns/come-back-10"]
