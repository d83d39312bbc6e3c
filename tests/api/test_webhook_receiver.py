"""run-local's webhook receiver as its own process (`python -m tools.cli webhook-receiver`), told
to fail, time out and answer slowly: the sender retries until each event is answered 2xx once;
the receiver's listing shows every delivery with its signature checked, and no event id answered
twice. A bad signature is refused (400) and counts as not delivered."""

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from chalicelib.core.webhook_signature import HEADER, signature_header
from tests.api.test_cancel_webhooks import open_and_cancel, pump, queues  # noqa: F401  (fixture)
from tests.helpers import ROOT, free_port
from tools.webhook_receiver import Receiver


@pytest.fixture
def receiver_process(api, queues):  # noqa: F811  (the imported fixture)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks"
    secret = api.admin("PUT", "/v1/cancel-flows/acme/webhook", {"url": url}).json_body["secret"]
    command = [sys.executable, "-m", "tools.cli", "webhook-receiver", "--port", str(port), "--secret", secret]
    command += ["--script", "fail,timeout,slow,fail,timeout", "--slow-seconds", "0.2"]
    process = subprocess.Popen(command, cwd=ROOT, env=os.environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = json.loads(process.stdout.readline())
    assert first["url"] == url
    yield first["listing"], process
    process.terminate()
    process.wait(timeout=10)


def listing(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (a local test server)
        return json.loads(response.read())


def test_nothing_is_lost_or_answered_twice_under_faults(api, queues, receiver_process):  # noqa: F811
    listing_url, process = receiver_process
    sessions = [open_and_cancel(api, n) for n in range(4)]
    pump(queues["CANCEL_WEBHOOK_QUEUE_URL"], duplicate_every=2)
    shown = listing(listing_url)
    expected = {f"evt_{s}_{kind}" for s in sessions for kind in ("started", "completed")}
    answered = [d["event_id"] for d in shown["deliveries"] if d["status"] == 200 and d["answer"] != "timeout"]
    assert sorted(answered) == sorted(expected)  # each event once, none lost
    assert shown["duplicates"] == []
    assert all(d["signature_ok"] is True for d in shown["deliveries"])
    assert [d["answer"] for d in shown["deliveries"]].count("timeout") == 2  # the faults happened
    assert [d["answer"] for d in shown["deliveries"]].count("fail") == 2
    process.terminate()
    printed = [json.loads(line) for line in process.communicate(timeout=10)[0].decode().splitlines()]
    assert [p["event_id"] for p in printed] == [d["event_id"] for d in shown["deliveries"]]


def test_a_bad_signature_is_refused_and_the_script_can_change_while_it_runs():
    receiver = Receiver(secrets=["whsec_right"], slow_seconds=0)
    try:
        body = json.dumps({"id": "evt_x_started", "type": "cancel_session.started"}).encode()

        def send(secret: str) -> int:
            request = urllib.request.Request(  # noqa: S310
                receiver.url,
                data=body,
                method="POST",
                headers={HEADER: signature_header(secret, body, int(time.time()))},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        assert send("whsec_wrong") == 400
        script = urllib.request.Request(receiver.url.replace("/hooks", "/_script"), data=b'["fail"]', method="POST")
        urllib.request.urlopen(script, timeout=5).close()  # noqa: S310
        assert send("whsec_right") == 500
        assert send("whsec_right") == 200
        assert receiver.received == [
            ("evt_x_started", "bad_signature", False),
            ("evt_x_started", "fail", True),
            ("evt_x_started", "ok", True),
        ]
        assert receiver.answered_ok() == ["evt_x_started"] and receiver.duplicates() == []
    finally:
        receiver.stop()


def test_a_new_link_request_reaches_the_business_as_a_signed_webhook(api, queues, receiver_process):  # noqa: F811
    from tests.api.test_cancel_api import open_session

    listing_url, _ = receiver_process
    session_id, path = open_session(api, subscription_id="sub_relink")
    token = path.removeprefix("/cancel/")
    assert api.http.request("POST", f"/cancel/new-link/{token}", headers={}, body=b"").status_code == 202
    pump(queues["CANCEL_WEBHOOK_QUEUE_URL"])  # through the scripted faults, retried
    shown = listing(listing_url)
    delivered = [d for d in shown["deliveries"] if d["status"] == 200 and d["answer"] != "timeout"]
    requested = [d for d in delivered if d["type"] == "cancel_session.link_requested"]
    assert len(requested) == 1 and requested[0]["event_id"].startswith(f"evt_{session_id}_link_requested_")
    assert requested[0]["session"] == session_id and requested[0]["signature_ok"] is True
    assert shown["duplicates"] == []
