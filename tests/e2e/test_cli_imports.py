"""Imports of any size against the local stack (issue 17.6): a 10,001-row CSV through the CLI,
and an import over HTTP that goes on in run-local's queue worker."""

import json
import subprocess
import sys
import time

import pytest
import requests

from tests.helpers import ROOT

pytestmark = pytest.mark.server


def test_a_csv_of_10001_rows_is_imported_whole_through_the_cli(local_stack, tmp_path):
    """Issue 17.6: 10,001 rows subscribed 10,000 and then printed only an error (exit 2). Now
    every row is applied or refused by line, in one run, and running it again applies nothing."""
    local_stack.cli("create-list", "big", "Big list")
    rows = [f"big{i:05d}@example.com" for i in range(10_000)]
    rows.insert(4_321, "not an address")
    file = tmp_path / "big.csv"
    file.write_text("\ufeffName;E-mail Address\n" + "".join(f"P{i};{row}\n" for i, row in enumerate(rows)))
    started = time.monotonic()
    report = json.loads(local_stack.cli("import", "big", str(file)))
    took = time.monotonic() - started
    assert report["status"] == "done" and report["rows"] == report["rows_done"] == 10_001
    assert report["counts"] == {"applied": 10_000, "already_there": 0, "refused": 1}
    assert report["refused_rows"] == [{"line": 4_323, "reason": "bad_email", "detail": "not a valid email address"}]
    # Checked over the stack's API (a CLI process more would only start Python again).
    first, last = (local_stack.allowed(f"big{n:05d}@example.com", "big") for n in (0, 9_999))
    assert first["allowed"] is True and last["allowed"] is True
    print(f"10,001 rows imported in {took:.0f} s")

    again = subprocess.run(
        [sys.executable, "-m", "tools.cli", "import", "big", str(file)],
        cwd=ROOT,
        env=local_stack.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(again.stdout)["counts"] == report["counts"]
    assert f"import {report['import_id']}: 10001 rows, column 'E-mail Address', semicolon-separated" in again.stderr


def test_an_import_over_http_goes_on_in_the_local_queue_worker(local_stack):
    """`Prefer: respond-async`: 202 with the Location of the import's status, which run-local's
    queue worker brings to done."""
    assert local_stack.admin("POST", "/v1/lists", {"list_id": "later-http", "name": "Later"}).status_code == 201
    body = "email\n" + "".join(f"http{i:03d}@example.com\n" for i in range(300)) + "oops\n"
    accepted = requests.post(
        f"{local_stack.base_url}/v1/lists/later-http/imports",
        data=body.encode(),
        headers={"X-Api-Key": "dev-admin-key", "Content-Type": "text/csv", "Prefer": "respond-async"},
        timeout=30,
    )
    assert accepted.status_code == 202, accepted.text
    location = accepted.headers["Location"]
    assert location.startswith(local_stack.base_url) and accepted.json()["status"] == "running"
    deadline = time.monotonic() + 120
    while (status := requests.get(location, headers={"X-Api-Key": "dev-admin-key"}, timeout=30).json())[
        "status"
    ] != "done":
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    assert status["counts"] == {"applied": 300, "already_there": 0, "refused": 1}
    assert status["refused_rows"] == [{"line": 302, "reason": "bad_email", "detail": "not a valid email address"}]
