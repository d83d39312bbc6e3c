"""Helpers shared by every test layer: request bodies as mailbox providers build them, SES
records as AWS publishes them, copies of moto's tables, and the real local stack (the embedded
DynamoDB server and `chalice local` in their own processes, seeded the way `scripts/run-local`
seeds)."""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

# Request bodies as mailbox providers build them.

YAHOO_BOUNDARY = "----=_Part_12345_67890.1700000000000"


def multipart(fields: dict, boundary: str = YAHOO_BOUNDARY) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()


# SES event-publishing records as SES sends them (moto emits none of Open/Click: these are
# written from the documented shapes), with the subscriber id filled in.

FIXTURES = Path(__file__).parent / "fixtures" / "ses"
RECORD_TYPES = (
    "send",
    "delivery",
    "open_human",
    "open_apple_mpp",
    "click",
    "click_scanner",
    "bounce_permanent",
    "bounce_transient",
    "complaint",
    "reject",
    "rendering_failure",
    "delivery_delay",
    "subscription",
)


def record(name: str, subscriber_id: str, **mail_overrides) -> dict:
    data = json.loads((FIXTURES / f"{name}.json").read_text().replace("{{SUBSCRIBER_ID}}", subscriber_id))
    data["mail"].update(mail_overrides)
    return data


def sns_message(name: str, subscriber_id: str) -> str:
    """The SNS notification's `Message`: the record as a JSON string."""
    return json.dumps(record(name, subscriber_id))


def eventbridge_event(name: str, subscriber_id: str) -> dict:
    envelope = json.loads((FIXTURES / "eventbridge_envelope.json").read_text())
    envelope["detail"] = record(name, subscriber_id)
    return envelope


# moto's DynamoDB tables, copied whole: the in-process fixtures build tables (and the API tests'
# seeded lists) once and hand each test copies of its own, which costs far less than the writes.


def moto_tables() -> dict[tuple[str, str], dict]:
    """Copies of the tables the active moto mock holds: {(account, region): {name: Table}}."""
    from moto.dynamodb.models import dynamodb_backends

    return {
        (account, region): {name: copy.deepcopy(table) for name, table in backend.tables.items()}
        for account, regions in dynamodb_backends.items()
        for region, backend in regions.items()
    }


def install_moto_tables(tables: dict[tuple[str, str], dict]) -> None:
    """Copies of `tables` into the active moto mock, in place of any table of the same name."""
    from moto.dynamodb.models import dynamodb_backends

    from scripts import moto_patches

    for (account, region), named in tables.items():
        dynamodb_backends[account][region].tables.update({n: copy.deepcopy(t) for n, t in named.items()})
    moto_patches.note_write()  # new tables: no index partition map built before applies to them


# What the xdist workers of one run share (./scripts/test runs two): a directory in the run's
# basetemp, never in the tree, built by whichever worker comes first.


@contextmanager
def built_once(tmp_path_factory, name: str):
    """A directory `name` shared by every xdist worker of this run (this session's own without
    xdist), held under an exclusive lock while the block runs: the first worker builds what goes
    in it, the others wait and find it built."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            folder.mkdir(exist_ok=True)
            yield folder
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# The real local stack for end-to-end tests.

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 120) -> None:  # a loaded machine starts slowly
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            requests.get(url, timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):  # a loaded machine may answer its first request late
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {seconds} s")


TABLES_THEN_DEMO = "import sys; from tools.cli import main; sys.exit(main(['create-tables']) or main(['seed-demo']))"


def last_json(text: str):
    """The last of the JSON documents `text` holds one after the other (what the CLI printed)."""
    decoder, at, value = json.JSONDecoder(), 0, None
    text = text.strip()
    while at < len(text):
        value, at = decoder.raw_decode(text, at)
        while at < len(text) and text[at].isspace():
            at += 1
    return value


class LocalStack:
    """What `scripts/run-local` starts, each in its own process on free ports: the embedded
    DynamoDB server, the embedded SQS and SES server (with the queues and their dead-letter
    queues), `chalice local`, and the queue worker (`tools.cli work-queues`)."""

    def __init__(self, log_dir: Path, **settings: str):
        """`settings`: environment variables of every process of the stack, over the defaults."""
        self.api_port, self.dynamodb_port, self.sqs_port = free_port(), free_port(), free_port()
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self.dynamodb_endpoint = f"http://127.0.0.1:{self.dynamodb_port}"
        self.sqs_endpoint = f"http://127.0.0.1:{self.sqs_port}"
        self.env = {
            **os.environ,
            "DYNAMODB_ENDPOINT": self.dynamodb_endpoint,
            "SQS_ENDPOINT": self.sqs_endpoint,
            "SES_ENDPOINT": self.sqs_endpoint,
            "PUBLIC_BASE_URL": self.base_url,
            # Every test's browser and client is 127.0.0.1: the per-client issue limit (tested in
            # tests/integration) would otherwise make tests that issue codes depend on each other.
            "OFFER_ISSUES_PER_IP_PER_MINUTE": "10000",
            "PYTHONPATH": str(ROOT),
            # The embedded servers take any credentials; never hand real ones to them.
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        self.env.pop("AWS_SESSION_TOKEN", None)
        self.env.update(settings)
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []
        self.dynamodb: subprocess.Popen | None = None
        self.queues: dict[str, str] = {}  # UNSUBSCRIBE_QUEUE_URL, SUNSET_QUEUE_URL and their *_DEAD_LETTER_QUEUE_URL
        self.demo: dict = {}

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def cli(self, *args: str) -> str:
        return self._finish(self._begin(sys.executable, "-m", "tools.cli", *args))

    def _begin(self, *args: str) -> subprocess.Popen:
        """A set-up command, started now and finished (checked, its output read) by _finish."""
        return subprocess.Popen(
            args, cwd=ROOT, env=dict(self.env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    @staticmethod
    def _finish(process: subprocess.Popen) -> str:
        out, err = process.communicate()
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, process.args, out, err)
        return out

    def start(self) -> LocalStack:
        # What does not depend on each other starts at once (each is a Python process importing
        # boto3): the tables with the queues, chalice local and its worker with the demo data.
        self.dynamodb = self._spawn(
            "dynamodb", sys.executable, "scripts/local_dynamodb.py", "--port", str(self.dynamodb_port)
        )
        sqs = self._spawn("sqs", sys.executable, "scripts/local_sqs.py", "--port", str(self.sqs_port))
        wait_for(self.dynamodb_endpoint, self.dynamodb)
        wait_for(self.sqs_endpoint, sqs)  # the demo data verifies its senders on the SES server
        queues = self._begin(sys.executable, "scripts/local_sqs.py", "create-queues", "--endpoint", self.sqs_endpoint)
        # run-local's `create-tables` then `seed-demo`, in one process: a second one would only
        # import the models (about a second of CPU) again.
        demo = self._begin(sys.executable, "-c", TABLES_THEN_DEMO)
        self.queues = json.loads(self._finish(queues))
        self.env.update(self.queues)
        chalice = self._spawn(
            "chalice",
            sys.executable,
            str(ROOT / "scripts" / "chalice_local.py"),
            "local",
            "--no-autoreload",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.api_port),
            "--stage",
            "dev",
        )
        self._spawn("worker", sys.executable, "-m", "tools.cli", "work-queues", "--wait", "2", "--retry-after", "2")
        self.demo = last_json(self._finish(demo))
        wait_for(self.base_url + "/u/x", chalice)
        return self

    # The embedded DynamoDB server stalls for real: the process is stopped (SIGSTOP), so
    # connections are accepted by the kernel and never answered, until it continues (SIGCONT).
    def pause_dynamodb(self) -> None:
        os.kill(self.dynamodb.pid, signal.SIGSTOP)

    def resume_dynamodb(self) -> None:
        os.kill(self.dynamodb.pid, signal.SIGCONT)

    @contextmanager
    def dynamodb_stalled(self):
        self.pause_dynamodb()
        try:
            yield
        finally:
            self.resume_dynamodb()

    def stop(self) -> None:
        if self.dynamodb is not None and self.dynamodb.poll() is None:
            self.resume_dynamodb()  # a stopped process would not act on SIGTERM
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    # Shortcuts over the admin API (X-Api-Key for local use).
    def admin(self, method: str, path: str, body=None) -> requests.Response:
        return requests.request(
            method, self.base_url + path, json=body, headers={"X-Api-Key": "dev-admin-key"}, timeout=30
        )

    def link(self, email: str, list_id: str = "newsletter") -> str:
        response = self.admin("POST", "/v1/unsubscribe-headers", {"email": email, "list_id": list_id})
        response.raise_for_status()
        return response.json()["unsubscribe_url"]

    def events(self, subscriber_id: str) -> list[dict]:
        body = self.admin("GET", f"/v1/subscribers/{subscriber_id}/consent").text
        return [json.loads(line) for line in body.splitlines()]

    def allowed(self, email: str, list_id: str = "newsletter") -> dict:
        response = self.admin(
            "POST", "/v1/send-check", {"list_id": list_id, "channel": "email", "recipients": [{"email": email}]}
        )
        return response.json()["recipients"][0]


def subscriber_of(url: str) -> str:
    return url.rsplit("/u/", 1)[1].split(".")[1]


# Storage calls with the sunset due date the services would compute (the list's policy).


def join(subscriber_id, email, list_id, ctx, now, resubscribe=False) -> str:
    from chalicelib.storage import subscribers
    from chalicelib.sunset.engagement import next_due

    due = next_due(list_id, now)
    return subscribers.subscribe(subscriber_id, email, list_id, ctx, now, sunset_due=due, resubscribe=resubscribe)


def engage(subscriber_id, list_id, at) -> bool:
    from chalicelib.storage import subscribers
    from chalicelib.sunset.engagement import next_due

    return subscribers.record_engagement(subscriber_id, list_id, at, next_due(list_id, at))


def fresh_dynamodb_clients() -> None:
    """Drop the DynamoDB clients PynamoDB keeps for the process (one per model class, and the
    shared transaction connection), so the next call builds new ones. A test that relies on
    botocore's retries needs this: each client's retry quota (botocore's standard mode) is drained
    by the throttles and timeouts earlier tests injected, and then retries nothing."""
    from pynamodb.models import Model

    from chalicelib.storage import connection

    pending = list(Model.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if "_connection" in vars(model):
            model._connection = None
    connection.connection.cache_clear()


def descendants(pid: int) -> dict[int, str]:
    """{pid: command line} of every process under `pid`."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                try:
                    found[child] = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                frontier.append(child)
    return found
