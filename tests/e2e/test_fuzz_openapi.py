"""schemathesis against the running `chalice local` on the embedded DynamoDB server, from the
checked-in OpenAPI description, every phase (examples, coverage, fuzzing, stateful), continuing
after a failure so one run shows them all: no generated request gets a 5xx, and every answer
fits the schema the description gives it.

Bounded by examples, not by time, so every run covers the same ground whatever the machine's
speed: every operation is tested, each with its coverage-phase cases, up to 10 fuzzed cases and
the stateful links, from seed 7. Two runs over every operation, which the two xdist workers
share: the coverage phase (4,045 cases, every operation tested), and examples, fuzzing and
stateful (727 cases; 17 scenarios over the 545 links, 125 of them inferred, on a fresh stack;
3 December 2026). The stateful phase stays behind fuzzing in one process: run alone it found 133
links instead of 545.

Where the time went before (3 December 2026, 2 cores, load average 7-16 from other work): the one
run of before took 177 s wall for 33 s of its own CPU and 9 s of the servers'. The rest was
waiting: `chalice local` wrote a response's headers and its body in two sends without
TCP_NODELAY, so on a kept-alive connection the body waited for the client's delayed ACK, 40 ms a
request. The runs then sent `Connection: close` (89 s and 87 s at once on the two workers, side
by side at load average 11-15, against 226 s for the one run).

What cut the CPU since, for the same cases, stateful scenarios and links (every process counted:
schemathesis, chalice local, the embedded DynamoDB and SQS servers, the queue worker; `pytest -n
0`, both runs on one stack, its start included; alternating runs, load average 5-8 from other
work, 3 December 2026):
- Kept-alive connections: `chalice local` now starts with TCP_NODELAY (scripts/chalice_local.py),
  so `Connection: close` went (no connect, accept and new server thread a request). With it,
  82.2 s and 80.1 s of CPU (107 s and 119 s wall); without, 73.6 s and 64.1 s (139 s and 84 s
  wall, as the machine's load varied); `chalice local` alone, 16.6 s and 16.5 s against 12.4 s
  and 11.8 s.
- hypothesis's Unicode tables (`unicode_tables`), built once for the run's workers: 1.85 s of CPU
  a run (2.2 s for a process asking for UTF-8 characters in an empty directory, 0.35 s with them).
  Kept alive and with the tables, 59.1 s against 72.1 s for the original, side by side.
- One worker thread (`--workers 1`): 60.7 s and 52.6 s against 62.4 s and 73.0 s for two, the
  coverage run's schemathesis alone 14.4 s and 14.9 s against 20.5 s and 20.3 s (it spent
  1.2 s in the garbage collector against 2.1 s); the wall time moved with the load, not with it
  (90 s and 58 s against 87 s and 103 s).
With the embedded DynamoDB server of 7c65713 under both, the three against none of them:
46.7 s and 48.6 s of CPU against 60.3 s and 77.9 s (`-n 0`, 56 s wall against 70-72 s), and as
the suite runs them, each on its own worker and stack (`-n 2`), 76.6 s and 66.3 s against 89.0 s
and 95.9 s (wall 76 s and 62 s against 59 s and 113 s: one thread waits on each answer, and the
load varied). The embedded DynamoDB server's share (6-8 s) is its own
(scripts/local_dynamodb.py).

Left as they were, with evidence: the example database (`--generation-database none` cut
fuzzing CPU by 18 % but changed the stateful phase: 133 links instead of 545, 10 scenarios
instead of 17), and splitting by path (the halves' stateful phases had 24 and 101 links where
one run had 133, with that same option). Not taken, for want of a measurable gain: one send
for a response's headers and body in chalice local (a kept-alive GET: 667 and 613 us of CPU with
two sends, 672 and 669 with one), larger garbage-collector thresholds in schemathesis (at most
1 s a run) and requests' environment lookups (`trust_env`: about 70 us a request)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import built_once

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
DESCRIPTION = ROOT / "openapi.yaml"

# Both runs select every operation. The stateful phase runs after fuzzing, in its process, as it
# did after coverage and fuzzing before: what it learns from their answers drives it.
RUNS = {
    "coverage": ["--phases", "coverage"],
    "examples-fuzzing-stateful": ["--phases", "examples,fuzzing,stateful"],
}


# Asking hypothesis for UTF-8 characters builds both of its Unicode tables: which code points each
# category holds, and which of them UTF-8 encodes.
BUILD_UNICODE_TABLES = "from hypothesis import strategies as st; st.characters(codec='utf-8').validate()"


@pytest.fixture(scope="session")
def unicode_tables(tmp_path_factory) -> Path:
    """hypothesis's Unicode tables, built once for the run's workers. Each schemathesis run starts
    in an empty directory, where hypothesis would build them again (1.5 s of CPU a run, nearly all
    of it trying to encode each of the 1.1 million code points in UTF-8); it reads them from its
    storage directory's `unicode_data` when they are there, and they are the same for every run."""
    with built_once(tmp_path_factory, "hypothesis-unicode") as folder:
        if not any(folder.glob("unicode_data/*/codec-v2-utf-8.json.gz")):
            subprocess.run(
                [sys.executable, "-c", BUILD_UNICODE_TABLES],
                cwd=folder,
                env={**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(folder)},
                check=True,
            )
    return folder / "unicode_data"


@pytest.mark.parametrize("run", RUNS)
def test_no_generated_request_gets_a_server_error(local_stack, unicode_tables, tmp_path, run):
    shutil.copytree(unicode_tables, tmp_path / ".hypothesis" / "unicode_data")
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
            # One worker thread: two took more CPU for the same cases (module docstring).
            "--workers",
            "1",
            # chalice local listens with a backlog of 5: a connection reset is retried, as clients do.
            "--request-retries",
            "3",
            "--request-timeout",
            "10",
            "--header",
            "X-Api-Key: dev-admin-key",
        ],
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(Path(__file__).parent / "schemathesis_hooks.py")},
        capture_output=True,
        text=True,
        timeout=900,  # the examples bound it: this only stops a run that hangs
    )
    failures = result.stdout[result.stdout.find("FAILURES") :] if "FAILURES" in result.stdout else result.stdout[-4000:]
    assert result.returncode == 0, failures[:6000]
    assert " passed" in result.stdout
    # Every operation the description has was selected by both runs, and tested by the coverage
    # run (none skipped for want of time). Fuzzing tests 67 of the 70, as before: the three PATCH
    # bodies refer to schemas openapi.yaml lacks; stateful goes where the links lead.
    selected = re.search(r"Selected: (\d+)/(\d+)", result.stdout)
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert selected and tested, result.stdout[-4000:]
    assert selected[1] == selected[2], result.stdout[-4000:]
    if run == "coverage":
        assert selected[1] == tested[1], result.stdout[-4000:]
    else:
        assert re.search(r"✅\s+Stateful \(", result.stdout), result.stdout[-4000:]
