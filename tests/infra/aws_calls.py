"""Every AWS API call the code makes while the tests run, recorded for the permission test
(tests/infra/test_permissions.py), which runs last.

A botocore event hook (`provide-client-params`, added to botocore's built-in handlers, so every
client of every session has it: ours, PynamoDB's and powertools') records the service, the
operation, the IAM actions it needs and the resources it names. A resource is recorded with the
environment variable it came from (`SUBSCRIBERS_TABLE`, `UNSUBSCRIBE_QUEUE_URL`,
`SECRETS_PARAMETER_PATH`...), so the permission test can resolve it the way a stage's packaged
template does (the tests run with dev names and moto's queue URLs).

Who made the call is read from the stack: a call is the service's when the innermost frame of
ours is in `app.py` or `chalicelib/` and no frame is in `tools/` (the operator CLI runs with the
operator's credentials) or in an operator-only entry point (`create_tables`: tables come from
CloudFormation in AWS). Calls made by the tests themselves (creating moto queues, reading what a
handler queued) are recorded as the harness's and not checked.

Registered by `tests/conftest.py`; this module is a pytest plugin.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import botocore.handlers
import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
PERMISSION_TESTS = "tests/infra/test_permissions.py"
# Functions in chalicelib the deployed functions never call: who calls them is not the service.
OPERATOR_ENTRY_POINTS = {("chalicelib/storage/tables.py", "create_tables")}


@dataclass(frozen=True)
class Resource:
    """What a call names. `env` is the environment variable the value came from (None when the
    value is the same in every stage, such as a sender's identity)."""

    kind: str  # table | queue | parameter | parameter-path | identity | configuration-set
    value: str
    env: str | None = None
    suffix: str = ""  # a table's "/index/NAME"


@dataclass(frozen=True)
class Need:
    action: str  # IAM action, e.g. "dynamodb:Query"
    resource: Resource


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    origin: str  # service | operator | harness
    needs: tuple[Need, ...]
    test: str


@dataclass
class Session:
    calls: list[Call] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    items: list = field(default_factory=list)
    deselected: int = 0
    finished: int = 0
    args_cover_the_suite: bool = False
    current_test: str = ""
    merged: bool = False  # the other xdist workers' calls were added (see _merge_the_other_workers)

    def whole_suite_before(self, nodeid: str) -> tuple[bool, str]:
        """(True, "") when every test of tests/ was collected and every one before `nodeid` has
        run; else (False, why)."""
        if not self.args_cover_the_suite:
            return False, "the session was given a subset of tests/ (paths, node ids or -k)"
        if self.deselected:
            return False, f"{self.deselected} tests were deselected (-m, -k, --lf...)"
        before = next((i for i, item in enumerate(self.items) if item.nodeid == nodeid), len(self.items))
        if self.finished < before:
            return False, f"only {self.finished} of the {before} tests before this one ran (-x, or stopped?)"
        return True, ""


SESSION = Session()


# The hook.


# What the hook computes is cached: a whole suite makes thousands of calls from a few hundred
# call sites (code objects on the stack) naming a few dozen values (table names, queue URLs).

_NOT_OURS = ""
_code_paths: dict = {}  # code object -> its file relative to ROOT ("" when not ours)


def _path_of(code) -> str:
    relative = _code_paths.get(code)
    if relative is None:
        path = Path(code.co_filename)
        ours = path.is_relative_to(ROOT) and not path.is_relative_to(VENV)
        relative = _code_paths[code] = path.relative_to(ROOT).as_posix() if ours else _NOT_OURS
    return relative


def _origin(frame) -> str:
    innermost = None
    while frame is not None:
        relative = _path_of(frame.f_code)
        if relative:
            if relative.startswith("tools/"):
                return "operator"
            if (relative, frame.f_code.co_name) in OPERATOR_ENTRY_POINTS:
                return "operator"
            if innermost is None:
                innermost = relative
        frame = frame.f_back
    if innermost is not None and (innermost == "app.py" or innermost.startswith("chalicelib/")):
        return "service"
    return "harness"


class _EnvironmentNames:
    """Which environment variables hold a value, recomputed only when the environment changed
    (tests set variables; comparing the raw mapping is far cheaper than decoding it)."""

    def __init__(self):
        self.seen: dict | None = None
        self.names: dict[str, list[str]] = {}

    def of(self, value: str) -> list[str]:
        # The bytes mapping os.environ decodes on every read; chalice's test client swaps in a
        # plain dict (a copy with the stage's variables) while a request runs.
        raw = getattr(os.environ, "_data", os.environ)
        if raw != self.seen:
            self.seen, self.names = dict(raw), {}
            for name, held in os.environ.items():
                if not name.startswith("PYTEST_"):
                    self.names.setdefault(held, []).append(name)
            for names in self.names.values():
                names.sort()
        return self.names.get(value, [])


_ENVIRONMENT = _EnvironmentNames()


def _from_env(kind: str, value: str, suffix: str = "") -> Resource:
    names = _ENVIRONMENT.of(value)
    return Resource(kind, value, names[0] if names else None, suffix)


def _table(name: str, index: str | None = None) -> Resource:
    return _from_env("table", name, f"/index/{index}" if index else "")


def _dynamodb(operation: str, params: dict) -> list[Need]:
    per_item = {
        "ConditionCheck": "ConditionCheckItem",
        "Put": "PutItem",
        "Update": "UpdateItem",
        "Delete": "DeleteItem",
    }
    if operation == "TransactWriteItems":  # authorized item by item (there is no TransactWriteItems action)
        needs = []
        for item in params.get("TransactItems", []):
            [(kind, body)] = item.items()
            needs.append(Need(f"dynamodb:{per_item[kind]}", _table(body["TableName"])))
        return needs
    if operation == "TransactGetItems":
        return [Need("dynamodb:GetItem", _table(i["Get"]["TableName"])) for i in params.get("TransactItems", [])]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Need(f"dynamodb:{operation}", _table(name)) for name in params.get("RequestItems", {})]
    if "TableName" in params:
        return [Need(f"dynamodb:{operation}", _table(params["TableName"], params.get("IndexName")))]
    return [Need(f"dynamodb:{operation}", Resource("account", "*"))]


def _sqs(operation: str, params: dict) -> list[Need]:
    action = {
        "SendMessageBatch": "SendMessage",
        "DeleteMessageBatch": "DeleteMessage",
        "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    }.get(operation, operation)
    if "QueueUrl" in params:
        return [Need(f"sqs:{action}", _from_env("queue", params["QueueUrl"]))]
    if "QueueName" in params:
        return [Need(f"sqs:{action}", Resource("queue-name", params["QueueName"]))]
    return [Need(f"sqs:{action}", Resource("account", "*"))]


def _ssm(operation: str, params: dict) -> list[Need]:
    if operation == "GetParametersByPath":  # its resource is the path itself, not path/*
        return [Need("ssm:GetParametersByPath", _parameter_path(params["Path"]))]
    names = params.get("Names") or ([params["Name"]] if "Name" in params else [])
    return [Need(f"ssm:{operation}", _parameter(name)) for name in names] or [
        Need(f"ssm:{operation}", Resource("account", "*"))
    ]


def _parameter_path(path: str) -> Resource:
    return _from_env("parameter-path", path.rstrip("/"))


def _parameter(name: str) -> Resource:
    """A parameter under a path the environment names is recorded relative to that path."""
    for env, value in sorted(os.environ.items()):
        if value.startswith("/") and name.startswith(value.rstrip("/") + "/"):
            return Resource("parameter", name, env, name[len(value.rstrip("/")) :])
    return Resource("parameter", name)


def _sesv2(operation: str, params: dict) -> list[Need]:
    if operation != "SendEmail":
        return [Need(f"ses:{operation}", Resource("account", "*"))]
    sender = params.get("FromEmailAddress") or ""
    identity = Resource("identity", sender.rpartition("@")[2].rstrip(">") or sender)
    # SES v2 SendEmail with raw content is also authorized as ses:SendRawEmail (seen as
    # AccessDenied in the field, e.g. django-anymail#384): require both for raw messages.
    actions = ["ses:SendEmail"] + (["ses:SendRawEmail"] if "Raw" in params.get("Content", {}) else [])
    resources = [identity]
    if params.get("ConfigurationSetName"):
        resources.append(_from_env("configuration-set", params["ConfigurationSetName"]))
    return [Need(action, resource) for action in actions for resource in resources]


MAPPERS = {"dynamodb": _dynamodb, "sqs": _sqs, "ssm": _ssm, "sesv2": _sesv2}


def needs_of(service: str, operation: str, params: dict) -> list[Need]:
    mapper = MAPPERS.get(service)
    if mapper is None:
        return [Need(f"{service}:{operation}", Resource("unmapped", service))]
    return mapper(operation, params)


def record(params, model, **_) -> None:
    """botocore `provide-client-params` handler; returns None so the parameters are untouched."""
    try:
        service, operation = model.service_model.service_name, model.name
        SESSION.calls.append(
            Call(
                service,
                operation,
                _origin(sys._getframe(1)),
                tuple(needs_of(service, operation, params)),
                SESSION.current_test,
            )
        )
    except Exception as error:  # noqa: BLE001  (recording must never change what the code does)
        SESSION.errors.append(f"{SESSION.current_test}: {type(error).__name__}: {error}")


# Every botocore session created from now on registers the hook on each client it creates.
botocore.handlers.BUILTIN_HANDLERS.append(("provide-client-params", record))


def queue_name(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


# The pytest side: the permission tests run last; the session knows whether it was the whole suite.


def pytest_configure(config):
    suite = {(ROOT / "tests").resolve(), ROOT.resolve()}
    covered = False
    if not config.option.keyword:
        for arg in config.args:
            if "::" in arg:
                continue
            for base in (Path(config.invocation_params.dir), config.rootpath):
                if (base / arg).exists():
                    covered |= (base / arg).resolve() in suite
                    break
    SESSION.args_cover_the_suite = covered


def pytest_deselected(items):
    SESSION.deselected += len(items)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    last = [i for i in items if i.nodeid.startswith(PERMISSION_TESTS)]
    items[:] = [i for i in items if not i.nodeid.startswith(PERMISSION_TESTS)] + last


def pytest_collection_finish(session):
    SESSION.items = list(session.items)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    """`OFFBOARD_AWS_CALLS=calls.json pytest ...` writes what was recorded (to read, or diff);
    under xdist the worker that ran the permission tests writes everything, the others leave
    `calls.json.gwN` only when no worker merged them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        _publish(session.config, worker)
    out = os.environ.get("OFFBOARD_AWS_CALLS")
    if out:
        import json
        from dataclasses import asdict

        target = Path(out) if not worker or SESSION.merged else Path(f"{out}.{worker}")
        target.write_text(json.dumps([asdict(c) for c in SESSION.calls], indent=1))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if item.nodeid.startswith(PERMISSION_TESTS) and not SESSION.merged and os.environ.get("PYTEST_XDIST_WORKER"):
        _merge_the_other_workers(item.config)
    SESSION.current_test = item.nodeid
    try:
        return (yield)
    finally:
        SESSION.finished += 1
        SESSION.current_test = ""


# Under pytest-xdist (./scripts/test runs two workers) each worker records only the calls of the
# tests it ran. The permission tests are one file, handed to one worker after every other test was
# handed out (tests/schedule.py shares the suite a file at a time); the other workers publish what they recorded when their session ends,
# and that worker waits for them before its first permission test, so the tests see the whole run.

MERGE_TIMEOUT = float(os.environ.get("OFFBOARD_MERGE_TIMEOUT", "900"))  # a crashed worker never publishes


def _run_dir(config) -> Path:
    """The directory the workers of this run share (the controller's basetemp)."""
    return config._tmp_path_factory.getbasetemp().parent / "aws-calls"


def _publish(config, worker: str) -> None:
    import pickle

    folder = _run_dir(config)
    folder.mkdir(exist_ok=True)
    partial = folder / f"{worker}.partial"
    partial.write_bytes(pickle.dumps((SESSION.calls, SESSION.errors, SESSION.finished)))
    partial.replace(folder / f"{worker}.pickle")  # whole or absent: a reader never sees half


def _merge_the_other_workers(config) -> None:
    import pickle
    import time

    me, count = config.workerinput["workerid"], int(config.workerinput["workercount"])
    folder = _run_dir(config)
    deadline = time.monotonic() + MERGE_TIMEOUT
    while True:
        published = sorted(p for p in folder.glob("*.pickle") if p.stem != me) if folder.exists() else []
        if len(published) >= count - 1:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the permission tests wait for the other xdist workers' recorded AWS calls; after "
                f"{MERGE_TIMEOUT:.0f} s only {[p.stem for p in published]} of {count - 1} published in {folder}"
            )
        time.sleep(0.2)
    for path in published:
        calls, errors, finished = pickle.loads(path.read_bytes())  # noqa: S301 (written by this run's workers)
        SESSION.calls.extend(calls)
        SESSION.errors.extend(errors)
        SESSION.finished += finished
    SESSION.merged = True
