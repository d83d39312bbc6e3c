"""Shared by the benchmarks: the embedded DynamoDB server, round-trip counting, API Gateway events."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def start_dynamodb() -> tuple[subprocess.Popen, str]:
    from tests.helpers import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "local_dynamodb.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run([sys.executable, str(ROOT / "scripts" / "wait_for_port.py"), str(port)], check=True)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        DYNAMODB_ENDPOINT=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    from tools.stage import load_stage_environment

    load_stage_environment("dev")
    return process, endpoint


class RoundTrips:
    """Counts HTTP requests botocore sends: DynamoDB round trips, retries included."""

    def __init__(self):
        import botocore.endpoint

        self.count = 0
        original = botocore.endpoint.Endpoint._send

        def counting_send(endpoint, request):
            self.count += 1
            return original(endpoint, request)

        botocore.endpoint.Endpoint._send = counting_send


@contextmanager
def dynamodb_server() -> Iterator[str]:
    """The embedded DynamoDB server for one bench run: yields its endpoint, stops it after."""
    process, endpoint = start_dynamodb()
    try:
        yield endpoint
    finally:
        process.terminate()


def api_event(
    method: str,
    resource: str,
    path: str,
    body: str,
    headers: dict,
    path_parameters: dict | None = None,
    ip: str = "203.0.113.7",
) -> dict:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "requestId": "bench",
            "identity": {"sourceIp": ip},
        },
        "body": body,
        "isBase64Encoded": False,
    }


class Quiet:
    """Keep the handlers' EMF metric lines and logs out of the printed figures."""

    def __enter__(self):
        import logging

        from chalicelib.core.observability import logger

        logger.setLevel(logging.WARNING)
        self.stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115
        return self

    def __exit__(self, *exc):
        sys.stdout.close()
        sys.stdout = self.stdout


def cold_import_seconds(statement: str) -> float:
    """One fresh interpreter's time for `statement` (imports only; nothing cached in-process)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=os.environ, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def cold_import_ratio(statement: str, baseline: str, runs: int) -> tuple[float, float]:
    """Median seconds of `statement` and of `baseline`, measured alternately in one run (so both
    see the same machine load)."""
    import statistics

    measured, base = [], []
    for _ in range(runs):
        measured.append(cold_import_seconds(statement))
        base.append(cold_import_seconds(baseline))
    return statistics.median(measured), statistics.median(base)
