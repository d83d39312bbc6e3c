"""schemathesis against the running `chalice local` on the embedded DynamoDB server, from the
checked-in OpenAPI description, every phase (examples, coverage, fuzzing, stateful), continuing
after a failure so one run shows them all: no generated request gets a 5xx, and every answer
fits the schema the description gives it.

Bounded by examples, not by time, so every run covers the same ground whatever the machine's
speed: every operation is tested, each with its coverage-phase cases, up to 10 fuzzed cases and
the stateful links, from seed 7 (3,345 cases over 53 operations on 3 December 2026). Before,
`--max-time 120` made fuzzing repeat until two minutes were spent."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]


def test_no_generated_request_gets_a_server_error(local_stack, tmp_path):
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(Path(__file__).parent / "schemathesis.toml"),
            "run",
            str(ROOT / "openapi.yaml"),
            "--url",
            local_stack.base_url,
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--continue-on-failure",
            "--max-examples",
            "10",
            "--seed",
            "7",
            "--workers",
            "2",
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
    # Every operation the description has was tested (none skipped for want of time).
    selected = re.search(r"Selected: (\d+)/(\d+)", result.stdout)
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert selected and tested, result.stdout[-4000:]
    assert selected[1] == selected[2] == tested[1], result.stdout[-4000:]
