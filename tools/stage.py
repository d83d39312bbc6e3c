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
    if endpoint.startswith(("http://127.0.0.1", "http://localhost")) and not os.environ.get("SES_ENDPOINT"):
        # A local stack: email goes to the local SES (run-local serves it with SQS), never to AWS.
        if os.environ.get("SQS_ENDPOINT"):
            os.environ["SES_ENDPOINT"] = os.environ["SQS_ENDPOINT"]
        else:
            os.environ["SES_ENDPOINT"] = "http://127.0.0.1:1"  # nothing listens: sending fails, locally
    if os.environ.get("DYNAMODB_ENDPOINT"):
        # A local endpoint accepts any credentials; never send real ones to it.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
