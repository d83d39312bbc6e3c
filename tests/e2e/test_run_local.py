"""`scripts/run-local` against a DynamoDB endpoint of your own (DynamoDB Local, real DynamoDB):
it starts no embedded DynamoDB server, creates the tables there, and still starts the SQS
server and the queue worker. A separate embedded server on a free port stands in for
DynamoDB Local (which cannot be downloaded here)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import requests

from tests.helpers import ROOT, descendants, free_port, subscriber_of, wait_for

pytestmark = pytest.mark.server


def stop_group(pgid: int, seconds: float = 1.0) -> None:
    """What is left of run-local's process group after it exited gets `seconds` to go, then
    SIGKILL (run-local stops its own groups; this one is the test's)."""
    deadline = time.monotonic() + seconds
    with contextlib.suppress(ProcessLookupError):
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)  # raises once nothing of the group is left
            time.sleep(0.05)
        os.killpg(pgid, signal.SIGKILL)


@pytest.fixture
def own_dynamodb(tmp_path):
    port = free_port()
    log = open(tmp_path / "own-dynamodb.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [sys.executable, "scripts/local_dynamodb.py", "--port", str(port)], cwd=ROOT, stdout=log, stderr=log
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(endpoint, server)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_run_local_with_a_dynamodb_endpoint_starts_no_embedded_dynamodb_but_the_queues_and_worker(
    own_dynamodb, tmp_path
):
    port, sqs_port, unused_dynamodb_port = free_port(), free_port(), free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name not in ("PUBLIC_BASE_URL", "SES_ENDPOINT")
    }
    env.update(
        DYNAMODB_ENDPOINT=own_dynamodb,
        PORT=str(port),
        SQS_PORT=str(sqs_port),
        DYNAMODB_PORT=str(unused_dynamodb_port),
        LOG_DIR=str(tmp_path / "logs"),
    )
    output = open(tmp_path / "run-local.out", "w+")  # noqa: SIM115 (closed below)
    run_local = subprocess.Popen(
        ["scripts/run-local"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_for(base_url + "/u/x", run_local, seconds=90)
        commands = " | ".join(descendants(run_local.pid).values())
        assert "local_dynamodb.py" not in commands, commands
        assert "local_sqs.py" in commands and "work-queues" in commands and "chalice_local.py local" in commands, (
            commands
        )
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{unused_dynamodb_port}", timeout=1)
        output.seek(0)
        assert f"DynamoDB: {own_dynamodb} (no embedded DynamoDB server started)" in output.read()

        # The tables were created on the endpoint given, and the API uses it.
        dynamodb = boto3.client("dynamodb", endpoint_url=own_dynamodb, region_name="us-east-1")
        assert {"offboard-dev-lists", "offboard-dev-subscribers", "offboard-dev-offers"} <= set(
            dynamodb.list_tables()["TableNames"]
        )
        admin = {"X-Api-Key": "dev-admin-key"}
        requests.post(
            base_url + "/v1/lists/newsletter/subscribers", json={"email": "run-local@example.com"}, headers=admin
        ).raise_for_status()
        link = requests.post(
            base_url + "/v1/unsubscribe-headers",
            json={"email": "run-local@example.com", "list_id": "newsletter"},
            headers=admin,
        ).json()["unsubscribe_url"]

        # The worker applies what is queued on run-local's SQS server.
        sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{sqs_port}", region_name="us-east-1")
        queue = sqs.get_queue_url(QueueName="offboard-dev-unsubscribes")["QueueUrl"]
        asked_at = "2026-03-04T05:06:07+00:00"
        context = {"source": "one-click", "ip_hash": None, "user_agent": None, "key_id": "k1", "campaign_id": None}
        sqs.send_message(
            QueueUrl=queue,
            MessageBody=json.dumps(
                {
                    "subscriber_id": subscriber_of(link),
                    "list_id": "newsletter",
                    "everything": False,
                    "pause_until": None,
                    "at": asked_at,
                    "context": context,
                }
            ),
        )
        consent = base_url + f"/v1/subscribers/{subscriber_of(link)}/consent"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            events = [json.loads(line) for line in requests.get(consent, headers=admin, timeout=10).text.splitlines()]
            applied = [e for e in events if e["action"] == "unsubscribe"]
            if applied:
                break
            time.sleep(0.2)
        assert [e["at"] for e in applied] == [asked_at]
    finally:
        os.killpg(run_local.pid, signal.SIGTERM)
        try:
            run_local.wait(timeout=15)
        finally:
            stop_group(run_local.pid)
            output.close()


def local_env(tmp_path, **ports) -> dict:
    """run-local's environment on free ports (or the ones given), nothing of the test's AWS."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AWS_") and name not in ("PUBLIC_BASE_URL", "SES_ENDPOINT", "DYNAMODB_ENDPOINT")
    }
    env.update(PORT=str(free_port()), DYNAMODB_PORT=str(free_port()), SQS_PORT=str(free_port()))
    env.update({name: str(port) for name, port in ports.items()}, LOG_DIR=str(tmp_path / "logs"))
    return env


@pytest.mark.parametrize("variable", ["PORT", "DYNAMODB_PORT", "SQS_PORT"])
def test_a_busy_port_stops_run_local_before_anything_starts_naming_the_port_and_its_variable(tmp_path, variable):
    """Another stack (here: a bare listener) on one of the ports: run-local says which port and
    which variable moves it, exits non-zero, starts nothing, and sends the listener nothing (a
    second run-local used to attach to the first stack's servers, re-seed them and hang)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        busy = other.getsockname()[1]
        env = local_env(tmp_path, **{variable: busy})
        done = subprocess.run(["scripts/run-local"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0
        assert f"port {busy} is already in use" in done.stderr and f"set {variable} to a free port" in done.stderr
        assert done.stdout == "" and not (tmp_path / "logs").exists()
        other.settimeout(0.2)
        connection, _ = other.accept()  # run-local's own probe, and nothing after it
        with connection:
            connection.settimeout(0.5)
            assert connection.recv(1024) == b""
        with pytest.raises(TimeoutError):
            other.accept()


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize(
    ("stop", "reload"), [(signal.SIGINT, "1"), (signal.SIGTERM, "0")], ids=["ctrl-c-reloading", "sigterm"]
)
def test_stopping_run_local_stops_every_process_it_started(tmp_path, stop, reload):
    """Ctrl-C (SIGINT to run-local alone: its servers run in process groups of their own, so
    the terminal's signal never reaches them) or SIGTERM: every process run-local started is
    gone, with RELOAD=1 `chalice local`'s reloaded child process too, and the ports are free
    again. Without RELOAD=1 `chalice local` does not reload (one process, `--no-autoreload`)."""
    env = local_env(tmp_path, SEED_DEMO=0, RELOAD=reload)
    run_local = subprocess.Popen(
        ["scripts/run-local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started: dict[int, str] = {}
    try:
        wait_for(f"http://127.0.0.1:{env['PORT']}/u/x", run_local, seconds=120)
        started = descendants(run_local.pid)
        commands = list(started.values())
        chalice = [c for c in commands if "chalice_local.py local" in c]
        if reload == "1":
            assert len(chalice) >= 2 and not any("--no-autoreload" in c for c in chalice), commands  # reloader, child
        else:
            assert len(chalice) == 1 and "--no-autoreload" in chalice[0], commands
        assert any("local_dynamodb.py" in c for c in commands) and any("work-queues" in c for c in commands)
        os.kill(run_local.pid, stop)
        run_local.wait(timeout=30)
        assert run_local.returncode == 128 + stop
        left = {pid: command for pid, command in started.items() if alive(pid)}
        assert left == {}
        for variable in ("PORT", "DYNAMODB_PORT", "SQS_PORT"):
            with pytest.raises(requests.ConnectionError):
                requests.get(f"http://127.0.0.1:{env[variable]}", timeout=1)
    finally:
        for pid in [run_local.pid, *started]:  # whatever is left, whichever group it is in
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
