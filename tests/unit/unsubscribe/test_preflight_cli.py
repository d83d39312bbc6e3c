"""`python -m tools.cli preflight message.eml`: JSON when piped, a checklist on a terminal, exit
code 1 when the message is not ready and 2 when it is not a message."""

from __future__ import annotations

import io
import json
import sys

import pytest

import tools.cli
from chalicelib.unsubscribe import admin, senders
from tests.preflight_messages import compose, good_headers, public_pem, rsa_key, sign


def exit_code(argv: list[str]) -> int:
    """What the shell sees: main's answer, or the code the command exits with."""
    try:
        return tools.cli.main(argv)
    except SystemExit as done:
        return done.code


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def files(aws, tmp_path):
    admin.create_list({"list_id": "newsletter", "name": "The Weekly"})
    admin.add_subscriber("newsletter", "alice@example.com")
    unsubscribe = senders.headers_for({"email": "alice@example.com"}, "newsletter").headers
    good, broken = tmp_path / "good.eml", tmp_path / "broken.eml"
    good.write_bytes(sign(compose(good_headers(unsubscribe))))
    headers = [(n, v) for n, v in good_headers(unsubscribe) if n != "List-Unsubscribe-Post"]
    broken.write_bytes(sign(compose(headers)))
    key = tmp_path / "key.pem"
    key.write_text(public_pem())
    return good, broken, key


def test_piped_it_prints_json_and_exits_0_when_ready(files, capsys):
    good, _, key = files
    assert exit_code(["preflight", str(good), "--dkim-key", str(key)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ready"] is True and {f["status"] for f in report["findings"]} == {"pass"}


def test_a_message_that_is_not_ready_exits_1(files, capsys):
    _, broken, _ = files
    assert exit_code(["preflight", str(broken), "--dkim-txt", rsa_key()[1]]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ready"] is False
    assert [f["check"] for f in report["findings"] if f["status"] == "fail"] == ["list_unsubscribe_post"]


def test_on_a_terminal_it_prints_a_checklist(files, monkeypatch):
    _, broken, key = files
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert exit_code(["preflight", str(broken), "--dkim-key", str(key)]) == 1
    lines = terminal.getvalue().splitlines()
    assert lines[0] == "NOT READY: 1 to fix"
    assert len(lines) == 9 and "FAIL" in lines[2] and "list_unsubscribe_post: no List-Unsubscribe-Post" in lines[2]
    assert all("pass" in line for i, line in enumerate(lines[1:], 1) if i != 2)


def test_a_file_that_is_not_a_message_exits_2_with_one_line(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("just some notes\n")
    assert exit_code(["preflight", str(notes)]) == 2
    assert capsys.readouterr().err.strip().startswith("error: not_a_message:")
