"""schemathesis against the running `chalice local` on the embedded DynamoDB server, from the
checked-in OpenAPI description: no generated request gets a 5xx."""

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
            "run",
            str(ROOT / "openapi.yaml"),
            "--url",
            local_stack.base_url,
            "--checks",
            "not_a_server_error",
            # The coverage phase also sends methods no route has (TRACE...): chalice local answers
            # those 501 itself, where API Gateway answers 403. Our handlers are what is tested here.
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "10",
            "--seed",
            "7",
            "--max-time",
            "60",
            "--workers",
            "2",
            "--request-timeout",
            "10",
            "--header",
            "X-Api-Key: dev-admin-key",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    failures = result.stdout[result.stdout.find("FAILURES") :] if "FAILURES" in result.stdout else result.stdout[-4000:]
    assert result.returncode == 0, failures[:6000]
    assert " passed" in result.stdout
