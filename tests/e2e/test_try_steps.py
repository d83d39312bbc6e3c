"""docs/try.md's steps, run as written on a stack of their own (what `scripts/run-local` starts, with
its demo data): the curl commands of "The flow in a browser" and the CLI lines of "The CLI", in
order, each in bash. Only what a reader fills in is replaced: the host and port, the token
run-local printed, a code the demo shop's dialog showed, a subscriber id, and the files the
commands name (the campaign is the one docs/offers.md shows)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import requests

from tests.documented import DOCS, TRY, commands, fenced_blocks, section
from tests.helpers import ROOT, LocalStack, subscriber_of

pytestmark = pytest.mark.server

BROWSER = {"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of its own: the steps change the demo data (alice leaves the newsletter)."""
    started = LocalStack(tmp_path_factory.mktemp("try-logs"))
    try:
        yield started.start()
    finally:
        started.stop()


def a_code(stack: LocalStack, visitor: str) -> str:
    """What the demo shop's dialog shows a new visitor leaving through the top of the window."""
    ask = {
        "site_key": stack.demo["site_key"],
        "visitor_id": visitor,
        "session_id": visitor,
        "page_url": f"{stack.base_url}/demo/shop",
        "seconds_on_page": 5,
        "cart_value": 120,
        "currency": "USD",
        "device": "desktop",
    }
    for attempt in range(20):  # the demo campaign holds out 10% of visitors: a private window is a new one
        ask["visitor_id"] = ask["session_id"] = f"{visitor}-{attempt}"
        answer = requests.post(
            f"{stack.base_url}/offers/decide",
            data=json.dumps(ask),
            headers={**BROWSER, "Origin": stack.base_url},
            timeout=30,
        ).json()
        if answer["show"] and answer.get("offer", {}).get("code"):
            return answer["offer"]["code"]
    raise AssertionError(f"no code shown: {answer}")


def run(stack: LocalStack, command: str, fill: dict[str, str], env: dict[str, str] | None = None):
    for placeholder, value in {"http://127.0.0.1:8000": stack.base_url, **fill}.items():
        command = command.replace(placeholder, value)
    assert not re.search(r"<[A-Za-z][^>]*>", command), f"a placeholder left unfilled: {command}"
    done = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, env=env or stack.env, capture_output=True, text=True, timeout=120
    )
    return done


def test_the_flow_in_a_browser_as_written(stack):
    token = stack.demo["open_in_a_browser"].rsplit("/u/", 1)[1]
    code = a_code(stack, "try-till")
    one_click, send_check, till = fenced_blocks(section(TRY, "The flow in a browser"))
    fill = {"<token from the output>": token, "<CODE>": code}

    [command] = commands(one_click, "curl")
    done = run(stack, command, fill)
    assert done.returncode == 0 and done.stdout.startswith("HTTP/1.1 200"), done.stdout[:300]

    [command] = commands(send_check, "curl")
    [alice] = json.loads(run(stack, command, fill).stdout)["recipients"]
    assert alice["email"] == "alice@example.com" and alice["allowed"] is False  # she just left the newsletter

    validate, redeem = commands(till, "curl")
    assert json.loads(run(stack, validate, fill).stdout)["valid"] is True
    assert json.loads(run(stack, redeem, fill).stdout)["outcome"] == "redeemed"


def test_the_cli_as_written(stack, tmp_path):
    [block] = fenced_blocks(section(TRY, "The CLI"))
    [export, *lines] = commands(block, "")
    assert export.startswith("export ")
    values = {
        "DYNAMODB_ENDPOINT": stack.dynamodb_endpoint,
        "SQS_PORT": str(stack.sqs_port),
        "PORT": str(stack.api_port),
    }
    names = re.findall(r"(\w+)=\S+", export)
    env = {
        name: value
        for name, value in stack.env.items()
        if name not in ("SQS_ENDPOINT", "SES_ENDPOINT", "PUBLIC_BASE_URL", *values) and not name.endswith("_QUEUE_URL")
    }
    env.update({name: values[name] for name in names})

    (tmp_path / "people.csv").write_text("email\ntry-one@example.com\ntry-two@example.com\n")
    [campaign] = fenced_blocks((DOCS / "offers.md").read_text(), "json")
    (tmp_path / "campaign.json").write_text(campaign)
    alice = subscriber_of(stack.link("alice@example.com"))
    fill = {
        "people.csv": str(tmp_path / "people.csv"),
        "campaign.json": str(tmp_path / "campaign.json"),
        "s…": alice,
        "<CODE>": a_code(stack, "try-cli"),
        "<ANOTHER-CODE>": a_code(stack, "try-cli-phone"),
    }
    outputs = {}
    for line in lines:
        done = run(stack, line, fill, env)
        assert done.returncode == 0, (line, done.stdout[-500:], done.stderr[-1500:])
        outputs[line.split("tools.cli ", 1)[1].split()[0]] = done.stdout

    assert json.loads(outputs["headers"])["unsubscribe_url"].startswith(f"{stack.base_url}/u/")
    assert json.loads(outputs["import"])["counts"]["applied"] == 2
    checked = {r["email"]: r for r in json.loads(outputs["check"])}
    assert set(checked) == {"alice@example.com", "bob@example.com"} and checked["bob@example.com"]["allowed"] is True
    assert json.loads(outputs["kill"])["enabled"] is False
    assert json.loads(outputs["report"])["campaign_id"] == "come-back-10"
    assert json.loads(outputs["redeem"])["outcome"] == "redeemed"
    assert all(json.loads(line)["subscriber_id"] == alice for line in outputs["export"].splitlines())
