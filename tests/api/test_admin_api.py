"""The authenticated sender/operator API."""

import json

import pytest

from tests.api.conftest import ADMIN


def test_every_admin_route_needs_the_api_key(api):
    for method, path in (
        ("POST", "/v1/lists"),
        ("POST", "/v1/send-check"),
        ("POST", "/v1/unsubscribe-headers"),
        ("POST", "/v1/lists/newsletter/subscribers"),
        ("GET", "/v1/subscribers/sabc/consent"),
    ):
        for key in (None, "wrong-key", ""):
            headers = {"Content-Type": "application/json", **({"X-Api-Key": key} if key is not None else {})}
            response = api.http.request(method, path, headers=headers, body=b"{}")
            assert response.status_code == 401, (method, path, key)


def test_headers_endpoint_returns_the_rfc_8058_pair_and_a_body_link(api):
    response = api.admin(
        "POST", "/v1/unsubscribe-headers", {"email": "alice@example.com", "list_id": "newsletter", "campaign_id": "nov"}
    )
    body = response.json_body
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert body["headers"]["List-Unsubscribe"] == f"<{body['unsubscribe_url']}>"
    assert body["body_link"] == body["unsubscribe_url"] and "alice" not in body["unsubscribe_url"]
    assert ".newsletter.nov." in body["unsubscribe_url"]


def test_headers_for_an_unknown_list_is_404(api):
    response = api.admin("POST", "/v1/unsubscribe-headers", {"email": "alice@example.com", "list_id": "nope"})
    assert response.status_code == 404


def test_send_check_answers_a_batch_in_order(api):
    api.http.post(api.link("bob@example.com"), headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"")
    recipients = [{"email": "alice@example.com"}, {"email": "bob@example.com"}, {"email": "carol@example.com"}]
    response = api.admin(
        "POST", "/v1/send-check", {"list_id": "newsletter", "channel": "sms", "recipients": recipients}
    )
    assert [(r["email"], r["allowed"], r["reason"]) for r in response.json_body["recipients"]] == [
        ("alice@example.com", True, "subscribed"),
        ("bob@example.com", False, "unsubscribed"),
        ("carol@example.com", False, "not_subscribed"),
    ]


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"list_id": "newsletter", "channel": "email", "recipients": []}, 400, "bad_batch"),
        ({"list_id": "newsletter", "channel": "email", "recipients": [{"email": "a@b.co"}] * 101}, 400, "bad_batch"),
        ({"list_id": "newsletter", "channel": "fax", "recipients": [{"email": "a@b.co"}]}, 400, "bad_channel"),
        (
            {"list_id": "newsletter", "channel": "email", "recipients": [{"email": "not-an-address"}]},
            400,
            "bad_recipient",
        ),
        ({"list_id": "newsletter", "channel": "email", "recipients": ["a@b.co"]}, 400, "bad_recipient"),
        ({"list_id": "newsletter", "channel": "email", "recipients": "a@b.co"}, 400, "bad_batch"),
        ({"list_id": "../etc", "channel": "email", "recipients": [{"email": "a@b.co"}]}, 400, "bad_list"),
        ({"list_id": "gone", "channel": "email", "recipients": [{"email": "a@b.co"}]}, 404, "unknown_list"),
    ],
)
def test_a_malformed_batch_is_a_clear_4xx(api, body, status, code):
    response = api.admin("POST", "/v1/send-check", body)
    assert (response.status_code, response.json_body["error"]) == (status, code)


def test_a_batch_of_100_is_answered(api):
    recipients = [{"email": f"person{i}@example.com"} for i in range(99)] + [{"email": "alice@example.com"}]
    response = api.admin("POST", "/v1/send-check", {"list_id": "newsletter", "recipients": recipients})
    answers = response.json_body["recipients"]
    assert len(answers) == 100 and answers[-1]["allowed"] and not any(a["allowed"] for a in answers[:-1])


@pytest.mark.parametrize(
    "headers, body, status",
    [
        ({"Content-Type": "application/json"}, b"{not json", 400),
        ({"Content-Type": "application/json"}, b"[1, 2]", 400),
        ({"Content-Type": "application/json"}, b'{"x": "' + b"y" * 70000 + b'"}', 413),
    ],
)
def test_malformed_json_is_a_clear_4xx(api, headers, body, status):
    response = api.http.post("/v1/send-check", headers={**ADMIN, **headers}, body=body)
    assert response.status_code == status and "error" in response.json_body


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999"])
@pytest.mark.parametrize(
    "method, path, template",
    [
        (
            "POST",
            "/v1/send-check",
            b'{"list_id": "newsletter", "recipients": [{"email": "alice@example.com", "n": %s}]}',
        ),
        ("PUT", "/v1/cancel-flows/nan", b'{"holdout_percent": 0, "order_ref": %s}'),
        ("POST", "/v1/codes/ABCDE-FGHJK/redemptions", b'{"order_ref": %s, "channel": "web"}'),
    ],
)
def test_nan_and_infinity_are_not_json(api, method, path, template, constant):
    """RFC 8259 section 6: a body carrying them (or a number too large for a double, which Python
    reads as infinity) is malformed wherever a JSON body is read, never
    stored, nor echoed back as an answer no JSON parser reads."""
    response = api.http.request(method, path, headers=ADMIN, body=template % constant)
    assert (response.status_code, response.json_body["error"]) == (400, "malformed_json")


def test_lists_are_validated_and_unique(api):
    assert api.admin("POST", "/v1/lists", {"list_id": "newsletter", "name": "Again"}).status_code == 409
    assert api.admin("POST", "/v1/lists", {"list_id": "has space", "name": "x"}).status_code == 400
    assert api.admin("POST", "/v1/lists", {"list_id": "ok", "name": ""}).status_code == 400
    assert api.admin("POST", "/v1/lists", {"list_id": "ok", "name": "x", "branding": {"css": "x"}}).status_code == 400


def test_adding_subscribers_never_brings_back_someone_who_left(api):
    api.http.post(
        api.link("alice@example.com"), headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b""
    )
    again = api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "Alice@Example.com"})
    assert again.status_code == 200 and again.json_body["result"] == "previously_unsubscribed"
    assert api.allowed("alice@example.com")["allowed"] is False
    consented = api.admin(
        "POST", "/v1/lists/newsletter/subscribers", {"email": "alice@example.com", "resubscribe": True}
    )
    assert consented.status_code == 201 and api.allowed("alice@example.com")["allowed"] is True
    assert api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "nope"}).status_code == 400
    assert api.admin("POST", "/v1/lists/gone/subscribers", {"email": "x@example.com"}).status_code == 404


def test_csv_import_counts_each_outcome(api):
    api.http.post(api.link("bob@example.com"), headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"")
    csv = "Email,name\ncarol@example.com,Carol\nalice@example.com,Alice\nbob@example.com,Bob\nbroken,Nobody\n"
    response = api.http.post(
        "/v1/lists/newsletter/imports", headers={**ADMIN, "Content-Type": "text/csv"}, body=csv.encode()
    )
    assert response.status_code == 200
    assert response.json_body["counts"] == {"applied": 1, "already_there": 1, "refused": 2}
    assert [(r["line"], r["reason"]) for r in response.json_body["refused_rows"]] == [
        (4, "previously_unsubscribed"),
        (5, "bad_email"),
    ]
    assert api.allowed("carol@example.com")["allowed"] and not api.allowed("bob@example.com")["allowed"]
    no_header = api.http.post(
        "/v1/lists/newsletter/imports", headers={**ADMIN, "Content-Type": "text/csv"}, body=b"a,b\n1,2\n"
    )
    assert no_header.status_code == 400


def test_consent_export_is_json_lines_without_the_address(api):
    path = api.link("alice@example.com")
    api.http.post(
        path, headers={"Content-Type": "application/x-www-form-urlencoded"}, body=b"List-Unsubscribe=One-Click"
    )
    sid = path.split("/")[2].split(".")[1]
    response = api.admin("GET", f"/v1/subscribers/{sid}/consent")
    assert response.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.body.decode().splitlines()]
    assert [(line["action"], line["list_id"]) for line in lines] == [
        ("subscribe", "newsletter"),
        ("subscribe", "promo"),
        ("unsubscribe", "newsletter"),
    ]
    assert all(line["subscriber_id"] == sid and "at" in line and "source" in line for line in lines)
    assert "alice" not in response.body.decode()


@pytest.mark.parametrize("body", ["ä\x80ì\r*ï\x00,\n", "\x00\x00", ""])
def test_unreadable_csv_is_a_400(api, body):
    response = api.http.post(
        "/v1/lists/newsletter/imports", headers={**ADMIN, "Content-Type": "text/csv"}, body=body.encode()
    )
    assert response.status_code == 400


def test_an_import_to_a_bad_list_id_is_a_400(api):
    response = api.http.post(
        "/v1/lists/%0B/imports", headers={**ADMIN, "Content-Type": "text/csv"}, body=b"email\na@b.co\n"
    )
    assert response.status_code == 400


def test_a_recipient_named_by_two_different_people_is_refused_not_guessed(api):
    from chalicelib.core.ids import subscriber_id_for
    from chalicelib.core.settings import get_settings

    bob = subscriber_id_for(get_settings().subscriber_id_key, "bob@example.com")
    mixed = {"email": "alice@example.com", "subscriber_id": bob}
    check = api.admin("POST", "/v1/send-check", {"list_id": "newsletter", "channel": "email", "recipients": [mixed]})
    headers = api.admin("POST", "/v1/unsubscribe-headers", {**mixed, "list_id": "newsletter"})
    assert check.status_code == headers.status_code == 400
    same = api.admin(
        "POST", "/v1/unsubscribe-headers", {"email": "bob@example.com", "subscriber_id": bob, "list_id": "newsletter"}
    )
    assert same.status_code == 200


def test_addresses_with_control_characters_are_refused(api):
    for address in ("a\u0000b@example.com", "a\u0007b@example.com", "a\u200eb@example.com"):
        response = api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": address})
        assert response.status_code == 400, address


def test_a_typo_in_a_new_list_is_refused_not_ignored(api):
    """An unknown field is refused by name (docs/inputs.md): `sender_nmae` would leave the
    sender's name unset."""
    body = {"list_id": "typo", "name": "Typo", "sender_nmae": "Shop"}
    answer = api.admin("POST", "/v1/lists", body)
    assert answer.status_code == 400 and "sender_nmae" in answer.json_body["message"]
    assert api.admin("GET", "/v1/lists/typo").status_code == 404
