"""schemathesis against the running `chalice local` on the embedded DynamoDB server, from the
checked-in OpenAPI description, every phase (examples, coverage, fuzzing, stateful), continuing
after a failure so one run shows them all: no generated request gets a 5xx, and every answer
fits the schema the description gives it.

Bounded by examples, not by time, so every run covers the same ground whatever the machine's
speed: every operation gets its examples and coverage-phase cases and up to 10 fuzzed cases, and
the stateful phase follows the links across all operations, from seed 7. Three runs that the two
xdist workers share: the per-operation phases in two halves of the description (the filter is
one regex, taken in and left out, so the halves are the whole; each half must have every one of
its operations tested), and the stateful phase over every operation at once, as links cross the
halves (`GET /v1/sunset/runs` leads to `GET /u/{token}`).

What the time went on, measured on 3 December 2026 (2 cores, load average 7-13 from other work;
70 operations, 3,790-3,818 cases a run): 177 s wall for the one run of before, of which 115 s
coverage, 47 s fuzzing, 9 s stateful; its own CPU was only 33 s and `chalice local`'s 6 s. The
rest was waiting: `chalice local` writes a response's headers and body in two sends without
TCP_NODELAY, so on a kept-alive connection the body waits for the client's delayed ACK, 40 ms
a request (a GET of `/u/x`: 44 ms kept alive, 1.3 ms on a new connection). `Connection: close`
gives every request its own connection (a closed one is resent by schemathesis on a fresh one):
the same run took 77-93 s, 27 s CPU. Beside it, no example database (`.hypothesis` of a new
temporary directory each run: nothing to replay, only its upkeep: fuzzing CPU 14.2 s to 11.6 s,
613 to 614 cases) and Hypothesis' Unicode tables kept in the repository's `.hypothesis` (a new
directory rebuilt them in every run, 1.2-1.6 s CPU each). The figures after the change are in
docs/tests.md."""

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTION = ROOT / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# The offers and cancellation side of the API (sites, campaigns, codes, cancel flows and their
# pages); the other half is everything else (unsubscribe, lists, subscribers, reports, sunset).
# The split keeps the two halves' cost close (about 55 and 58 s of requests each, measured).
OFFERS_AND_CANCELLATION = r"^/(offers|cancel|demo|v1/(sites|codes|cancel-)|reports/(sites|cancel-flows))"

RUNS = {
    "offers-and-cancellation": [
        "--phases",
        "examples,coverage,fuzzing",
        "--include-path-regex",
        OFFERS_AND_CANCELLATION,
    ],
    "the-rest": ["--phases", "examples,coverage,fuzzing", "--exclude-path-regex", OFFERS_AND_CANCELLATION],
    "stateful-all": ["--phases", "stateful"],
}


@functools.cache
def operations() -> list[str]:
    paths = yaml.load(DESCRIPTION.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["paths"]
    return [f"{method.upper()} {path}" for path, item in paths.items() for method in item if method in METHODS]


def expected_selection(run: str) -> int:
    every = operations()
    offers = [op for op in every if re.search(OFFERS_AND_CANCELLATION, op.split(" ", 1)[1])]
    return {"offers-and-cancellation": len(offers), "the-rest": len(every) - len(offers)}.get(run, len(every))


def test_the_halves_split_the_description():
    every = operations()
    halves = expected_selection("offers-and-cancellation"), expected_selection("the-rest")
    assert all(halves) and sum(halves) == len(every) == expected_selection("stateful-all")


@pytest.mark.parametrize("run", RUNS)
def test_no_generated_request_gets_a_server_error(local_stack, tmp_path, run):
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(Path(__file__).parent / "schemathesis.toml"),
            "run",
            str(DESCRIPTION),
            "--url",
            local_stack.base_url,
            "--checks",
            "not_a_server_error,response_schema_conformance",
            *RUNS[run],
            "--continue-on-failure",
            "--max-examples",
            "10",
            "--seed",
            "7",
            "--workers",
            "2",
            # Each run starts from an empty example database: keeping one only costs its upkeep.
            "--generation-database",
            "none",
            # chalice local listens with a backlog of 5: a connection reset is retried, as clients do.
            "--request-retries",
            "3",
            "--request-timeout",
            "10",
            "--header",
            "X-Api-Key: dev-admin-key",
            # A kept-alive connection to chalice local waits 40 ms for each response's body (no
            # TCP_NODELAY there): a connection per request is 40 times faster (module docstring).
            "--header",
            "Connection: close",
        ],
        cwd=tmp_path,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": str(Path(__file__).parent / "schemathesis_hooks.py"),
            # Hypothesis' Unicode tables, built once and kept where the suite's own Hypothesis keeps them.
            "HYPOTHESIS_STORAGE_DIRECTORY": str(ROOT / ".hypothesis"),
        },
        capture_output=True,
        text=True,
        timeout=900,  # the examples bound it: this only stops a run that hangs
    )
    failures = result.stdout[result.stdout.find("FAILURES") :] if "FAILURES" in result.stdout else result.stdout[-4000:]
    assert result.returncode == 0, failures[:6000]
    assert " passed" in result.stdout
    # Every operation of the run's share of the description was selected (and, but for the
    # stateful run, which goes where the links lead, tested: none skipped for want of time).
    selected = re.search(r"Selected: (\d+)/(\d+)", result.stdout)
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert selected and tested, result.stdout[-4000:]
    assert int(selected[1]) == expected_selection(run) and int(selected[2]) == len(operations()), result.stdout[-4000:]
    if run == "stateful-all":
        assert re.search(r"✅\s+Stateful", result.stdout), result.stdout[-4000:]
    else:
        assert selected[1] == tested[1], result.stdout[-4000:]
