"""`scripts/run-local` shows the cancellation webhooks: its receiver is registered for the
business `demo`, its worker delivers the events of a demo session there, signed, and the
receiver's listing shows each event answered once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.test_run_local import local_env, stop_group
from tests.helpers import ROOT, free_port, wait_for

pytestmark = pytest.mark.server


def test_run_local_delivers_a_demo_sessions_webhooks_to_its_receiver(tmp_path):
    webhook_port = free_port()
    env = local_env(tmp_path, WEBHOOK_PORT=webhook_port)
    output = open(tmp_path / "run-local.out", "w+")  # noqa: SIM115 (closed below)
    run_local = subprocess.Popen(
        ["scripts/run-local"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
    )
    base_url = f"http://127.0.0.1:{env['PORT']}"
    try:
        wait_for(base_url + "/u/x", run_local, seconds=120)
        output.seek(0)
        listing = f"http://127.0.0.1:{webhook_port}/"
        assert f"webhook receiver for business demo: {listing}" in output.read()
        body = {
            "business": "demo",
            "customer_id": "cus_local",
            "subscription_id": "sub_local",
            "plan": "Pro",
            "price": 1999,
            "currency": "USD",
            "return_url": "https://demo.example/account",
            "effective_date": (date.today() + timedelta(days=30)).isoformat(),
        }
        opened = requests.post(
            base_url + "/v1/cancel-sessions", json=body, headers={"X-Api-Key": "dev-admin-key"}, timeout=30
        )
        opened.raise_for_status()
        session = opened.json()["session_id"]
        path = urlsplit(opened.json()["url"]).path
        requests.post(base_url + path, data={"action": "cancel"}, timeout=30).raise_for_status()

        expected = {f"evt_{session}_started", f"evt_{session}_completed"}
        deadline, shown = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            shown = requests.get(listing, timeout=5).json()
            if {d["event_id"] for d in shown["deliveries"]} >= expected:
                break
            time.sleep(0.2)
        delivered = [d for d in shown["deliveries"] if d["session"] == session]
        assert sorted(d["event_id"] for d in delivered) == sorted(expected)
        assert all(d["signature_ok"] is True and d["status"] == 200 for d in delivered)
        assert shown["duplicates"] == []
    finally:
        os.killpg(run_local.pid, signal.SIGTERM)
        try:
            run_local.wait(timeout=15)
        finally:
            stop_group(run_local.pid)
            output.close()
