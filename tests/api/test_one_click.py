"""One-click unsubscribe through the HTTP layer (`chalice.test.Client`), as mailbox providers send it."""

import io

import pytest

from tests.api.conftest import subscriber_of
from tests.helpers import YAHOO_BOUNDARY, multipart

GMAIL = {
    "Content-Type": "application/x-www-form-urlencoded",
    "User-Agent": "Mozilla/5.0 (compatible; Google-Unsubscribe)",
}


def unsubscribes(api, path):
    return [e for e in api.events(subscriber_of(path)) if e["action"] == "unsubscribe"]


def test_gmail_one_click_unsubscribes_at_once_with_200_and_no_redirect_or_cookie(api):
    path = api.link("alice@example.com")
    response = api.http.post(path, headers=GMAIL, body=b"List-Unsubscribe=One-Click")
    assert response.status_code == 200
    assert "Location" not in response.headers and "Set-Cookie" not in response.headers
    assert api.allowed("alice@example.com") == {
        "email": "alice@example.com",
        "subscriber_id": subscriber_of(path),
        "allowed": False,
        "reason": "unsubscribed",
        "frequency": None,
    }
    [event] = unsubscribes(api, path)
    assert event["source"] == "one-click" and event["list_id"] == "newsletter" and event["key_id"] == "k1"
    assert event["user_agent"].startswith("Mozilla/5.0 (compatible; Google")
    assert api.allowed("alice@example.com", list_id="promo")["allowed"] is True


def test_multipart_one_click_is_accepted(api):
    path = api.link("bob@example.com")
    response = api.http.post(
        path,
        headers={"Content-Type": f"multipart/form-data; boundary={YAHOO_BOUNDARY}"},
        body=multipart({"List-Unsubscribe": "One-Click"}),
    )
    assert response.status_code == 200
    assert api.allowed("bob@example.com")["reason"] == "unsubscribed"


def test_an_empty_post_unsubscribes_too(api):
    path = api.link("bob@example.com")
    assert (
        api.http.post(path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"").status_code == 200
    )
    assert api.allowed("bob@example.com")["reason"] == "unsubscribed"


def test_repeating_answers_the_same_and_records_one_event(api):
    path = api.link("alice@example.com")
    answers = [api.http.post(path, headers=GMAIL, body=b"List-Unsubscribe=One-Click") for _ in range(3)]
    assert {(a.status_code, a.body) for a in answers} == {(200, answers[0].body)}
    assert len(unsubscribes(api, path)) == 1


def test_get_never_changes_state(api):
    path = api.link("alice@example.com")
    for _ in range(3):
        page = api.http.get(path)
        assert page.status_code == 200 and b'<form method="post"' in page.body
    assert api.allowed("alice@example.com")["allowed"] is True
    assert unsubscribes(api, path) == []


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p[:-5],  # truncated
        lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"),  # tampered signature
        lambda p: p.replace("/u/k1.", "/u/k9."),  # unknown key
        lambda p: p.replace(".newsletter.", ".promo."),  # another list, same signature
    ],
)
def test_a_bad_token_is_400_and_changes_nothing(api, mangle):
    path = api.link("alice@example.com")
    response = api.http.post(mangle(path), headers=GMAIL, body=b"List-Unsubscribe=One-Click")
    assert response.status_code == 400 and response.json_body["error"] == "invalid_token"
    page = api.http.get(mangle(path))
    assert page.status_code == 400 and b"not valid" in page.body and b"Traceback" not in page.body
    assert api.allowed("alice@example.com")["allowed"] and api.allowed("alice@example.com", "promo")["allowed"]


def test_an_unknown_list_is_404_and_changes_nothing(api, settings):
    from chalicelib.unsubscribe import tokens

    path = api.link("alice@example.com")
    sid = subscriber_of(path)
    forged = "/u/" + tokens.sign(settings.signing_keys, "k1", sid, "deleted-list")
    response = api.http.post(forged, headers=GMAIL, body=b"List-Unsubscribe=One-Click")
    assert response.status_code == 404 and response.json_body["error"] == "unknown_list"
    assert api.http.get(forged).status_code == 404
    assert all(e["list_id"] != "deleted-list" for e in api.events(sid))


@pytest.mark.parametrize(
    "headers, body",
    [
        ({}, b"List-Unsubscribe=One-Click"),
        ({"Content-Type": "text/plain"}, b"List-Unsubscribe=One-Click"),
        ({"Content-Type": "application/json"}, b'{"List-Unsubscribe": "One-Click"}'),
        ({"Content-Type": "application/octet-stream"}, b"List-Unsubscribe=One-Click\r\n"),
        ({}, b""),
    ],
)
def test_the_rfc_body_is_accepted_whatever_the_content_type(api, headers, body):
    """Be liberal in what this route accepts: the person must not stay subscribed over a header."""
    path = api.link("alice@example.com")
    response = api.http.post(path, headers=headers, body=body)
    assert response.status_code == 200, response.body
    assert api.allowed("alice@example.com")["reason"] == "unsubscribed"


@pytest.mark.parametrize(
    "headers, body, status",
    [
        ({"Content-Type": "application/json"}, b'{"List-Unsubscribe": ["One-Click"]}', 400),
        ({"Content-Type": "text/plain"}, b"[" * 5000, 400),
        (GMAIL, b"List-Unsubscribe=" + b"x" * 9000, 413),
        (GMAIL, b"List-Unsubscribe=Something-Else", 400),
        ({"Content-Type": "multipart/form-data"}, b"--x\r\n", 400),
    ],
)
def test_bad_bodies_get_a_clear_4xx_and_change_nothing(api, headers, body, status):
    path = api.link("alice@example.com")
    response = api.http.post(path, headers=headers, body=body)
    assert response.status_code == status
    assert api.allowed("alice@example.com")["allowed"] is True


def test_logs_carry_the_key_id_but_never_the_url_token_or_address(api, capsys, monkeypatch):
    from chalicelib.core.observability import logger

    log = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", log)
    path = api.link("alice@example.com")
    capsys.readouterr()
    api.http.post(path, headers=GMAIL, body=b"List-Unsubscribe=One-Click")
    api.http.get(path)
    api.http.post(path[:-3], headers=GMAIL, body=b"List-Unsubscribe=One-Click")
    output = log.getvalue() + capsys.readouterr().out
    assert "rejected unsubscribe token" in output
    assert '"token_kid":"k1"' in output
    signature = path.rsplit(".", 1)[1]
    assert signature not in output and subscriber_of(path) not in output and "alice" not in output
