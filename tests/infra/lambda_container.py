"""One Lambda container, as the runtime runs a function: a fresh interpreter with the function's
environment, which imports only the module its `Handler` names and calls the handler with each
event and a context. Used by tests/infra/test_prod_boot.py.

    python -m tests.infra.lambda_container HANDLER FUNCTION_NAME

reads one JSON event per line on stdin and answers one JSON line per event on stdout:
`{"ok": true, "result": ...}` or `{"ok": false, "error": "Type: message"}`. What the function
prints (its logs, its EMF metrics) goes to stderr, as Lambda sends it to CloudWatch Logs.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid


class Context:
    """The attributes of Lambda's context object the service reads."""

    def __init__(self, function_name: str, timeout_s: int = 900):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/01/01/[$LATEST]0"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def main(handler: str, function_name: str) -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout = sys.stderr  # the function's own output is its log
    module, _, name = handler.rpartition(".")
    function = getattr(importlib.import_module(module), name)
    for line in sys.stdin:
        try:
            result = function(json.loads(line), Context(function_name))
            answer = {"ok": True, "result": result}
        except Exception as error:  # noqa: BLE001  (what Lambda reports as the invocation's error)
            traceback.print_exc()
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stderr.flush()
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
