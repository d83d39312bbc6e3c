"""A local stand-in for a business's webhook endpoint: receives the cancellation webhooks, checks
each signature (`Offboard-Signature`, Stripe's scheme), prints one JSON line per delivery, lists
them at `GET /`, and can misbehave on purpose (fail, time out, answer slowly) to show that the
sender retries and that no event id is answered 2xx twice.

    .venv/bin/python -m tools.cli webhook-receiver --register demo --script fail,timeout,slow

Faults come from a script, one word per request in arrival order, then `ok` for the rest:
`ok` (200), `fail` (500), `timeout` (answers after the sender gave up), `slow` (late, in time).
`POST /_script` with a JSON list adds words while it runs.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from chalicelib.core.webhook_signature import HEADER, verify

ANSWERS = ("ok", "fail", "timeout", "slow")
MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Delivery:
    at: str
    event_id: str | None
    type: str | None
    session: str | None
    answer: str  # ok, fail, timeout, slow, or bad_signature (refused with 400)
    status: int
    signature_ok: bool | None  # None: no secret to check against


class Receiver:
    """The receiver, serving in a background thread from construction until `stop()`."""

    def __init__(
        self,
        secrets: list[str] | None = None,
        script: list[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout_seconds: float = 25.0,
        slow_seconds: float = 3.0,
        out: TextIO | None = None,
    ):
        self.secrets = list(secrets or [])
        self.script = list(script or [])
        self.timeout_seconds, self.slow_seconds, self.out = timeout_seconds, slow_seconds, out
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                receiver._answer(self, 200, receiver.listing())

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                if self.path == "/_script":
                    receiver._extend_script(self, body)
                else:
                    receiver._receive(self, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def _answer(handler, status: int, body: dict) -> None:
        raw = json.dumps(body, indent=1).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def _extend_script(self, handler, body: bytes) -> None:
        try:
            words = json.loads(body)
        except ValueError:
            words = None
        if not isinstance(words, list) or not all(w in ANSWERS for w in words):
            self._answer(handler, 400, {"error": f"a JSON list of {', '.join(ANSWERS)}"})
            return
        with self.lock:
            self.script.extend(words)
        self._answer(handler, 200, {"script": self.script})

    def _receive(self, handler, body: bytes) -> None:
        checked = verify(self.secrets, handler.headers.get(HEADER), body, int(time.time())) if self.secrets else None
        try:
            event = json.loads(body)
        except ValueError:
            event = {}
        event = event if isinstance(event, dict) else {}
        with self.lock:
            answer = "bad_signature" if checked is False else (self.script.pop(0) if self.script else "ok")
        status = {"fail": 500, "bad_signature": 400}.get(answer, 200)
        data = (event.get("data") or {}).get("object") or {}
        delivery = Delivery(
            datetime.now(UTC).isoformat(timespec="milliseconds"),
            event.get("id"),
            event.get("type"),
            data.get("id"),
            answer,
            status,
            checked,
        )
        with self.lock:  # recorded on arrival, so the list is complete whatever the answer's delay
            self.deliveries.append(delivery)
        if self.out is not None:
            print(json.dumps(asdict(delivery)), file=self.out, flush=True)
        if answer == "timeout":
            time.sleep(self.timeout_seconds)
        elif answer == "slow":
            time.sleep(self.slow_seconds)
        with contextlib.suppress(OSError):  # the sender gave up waiting (a timeout): it will try again
            self._answer(handler, status, {"received": delivery.event_id})

    @property
    def received(self) -> list[tuple[str | None, str, bool | None]]:
        """(event id, answer, signature ok) of each request, in arrival order."""
        with self.lock:
            return [(d.event_id, d.answer, d.signature_ok) for d in self.deliveries]

    def answered_ok(self) -> list[str | None]:
        """Event ids answered 2xx (a timed-out answer never reached the sender: not counted)."""
        with self.lock:
            return [d.event_id for d in self.deliveries if d.answer in ("ok", "slow")]

    def duplicates(self) -> list[str]:
        """Event ids answered 2xx more than once: the one thing that must never happen."""
        return sorted(event for event, n in Counter(self.answered_ok()).items() if n > 1)

    def listing(self) -> dict:
        with self.lock:
            deliveries = [asdict(d) for d in self.deliveries]
            script = list(self.script)
        return {"url": self.url, "deliveries": deliveries, "duplicates": self.duplicates(), "script": script}


def serve(receiver: Receiver, out: TextIO = sys.stdout) -> None:
    """Block until interrupted, the receiver printing its deliveries to `out`."""
    receiver.out = out
    try:
        receiver.thread.join()
    except KeyboardInterrupt:
        receiver.stop()
