"""The order tests are handed out in: the files that take longest first, so that under
pytest-xdist no worker is left with a long test while the others have finished (longest
processing time first, the classic rule for sharing jobs between machines).

How long each file takes comes from `tests/durations.json`, written by a whole run with
`OFFBOARD_DURATIONS_OUT=tests/durations.json ./scripts/test` (docs/tests.md). The figures only
order the run: a file missing from them (a new one) runs among the short ones, and a stale
figure costs time, never a result. Tests keep their order within a file, so a module's fixtures
are set up once per worker as before.

Registered by `tests/conftest.py`; this module is a pytest plugin. The permission tests still
run last: `tests/infra/aws_calls.py` moves them after this ordering.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DURATIONS = ROOT / "tests" / "durations.json"


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def load_durations(path: Path = DURATIONS) -> dict[str, float]:
    """{test file: seconds}; empty when the file is absent or unreadable (the order is then
    pytest's own)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {name: float(s) for name, s in files.items() if isinstance(s, int | float) and not isinstance(s, bool)}


def longest_files_first(items: list, durations: dict[str, float]) -> list:
    """`items` with the files in decreasing duration, each file's tests in their own order."""
    position = {}
    for index, item in enumerate(items):
        position.setdefault(file_of(item.nodeid), index)
    return sorted(items, key=lambda item: (-durations.get(file_of(item.nodeid), 0.0), position[file_of(item.nodeid)]))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    durations = load_durations()
    if durations:
        items[:] = longest_files_first(items, durations)


# Writing the figures: the controller (or the only process) adds up every phase of every test.

_SPENT: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    if os.environ.get("OFFBOARD_DURATIONS_OUT") and not os.environ.get("PYTEST_XDIST_WORKER"):
        _SPENT[file_of(report.nodeid)] += report.duration


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    out = os.environ.get("OFFBOARD_DURATIONS_OUT")
    if not out or os.environ.get("PYTEST_XDIST_WORKER") or not _SPENT:
        return
    files = {name: round(seconds, 2) for name, seconds in sorted(_SPENT.items(), key=lambda kv: (-kv[1], kv[0]))}
    note = (
        "seconds per test file (setup, call and teardown), from one whole run; only orders the run (tests/schedule.py)"
    )
    Path(out).write_text(json.dumps({"about": note, "files": files}, indent=1) + "\n")
