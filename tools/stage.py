"""A stage's settings from `.chalice/config.json`, set in the environment the way Chalice sets them
for a function; used by the CLI, the local queue worker, the tests and the benches."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".chalice" / "config.json"


class UnknownStage(ValueError):
    """The config names no such stage."""


def load_stage_environment(stage: str, config: Path = CONFIG) -> None:
    """Set the stage's environment variables the way Chalice does, without overriding the shell."""
    if not config.exists():
        return
    data = json.loads(config.read_text())
    if stage not in data["stages"]:
        raise UnknownStage(f"no stage {stage!r} in {config}")
    merged = {**data.get("environment_variables", {}), **data["stages"][stage].get("environment_variables", {})}
    for name, value in merged.items():
        os.environ.setdefault(name, value)
    endpoint = os.environ.get("DYNAMODB_ENDPOINT", "")
    if endpoint.startswith(("http://127.0.0.1", "http://localhost")):
        # A local stack: the CLI finds run-local's servers by the same variables run-local reads.
        # Email goes to the local SES (run-local serves it with SQS), never to AWS.
        local_sqs = f"http://127.0.0.1:{os.environ.get('SQS_PORT') or 8002}"
        os.environ.setdefault("SQS_ENDPOINT", local_sqs)
        os.environ.setdefault("SES_ENDPOINT", os.environ["SQS_ENDPOINT"])
    if stage == "dev" and os.environ.get("PORT"):
        # Links the CLI prints point at the API run-local serves on PORT.
        os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{os.environ['PORT']}")
    if os.environ.get("DYNAMODB_ENDPOINT"):
        # A local endpoint accepts any credentials; never send real ones to it.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
