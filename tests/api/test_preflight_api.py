"""`POST /v1/preflight`: a sender posts the message (message/rfc822) and gets the checklist."""

from chalicelib.unsubscribe.preflight import MAX_MESSAGE_BYTES
from tests.preflight_messages import compose, good_headers, rsa_key, sign

KEY = rsa_key()[1]


def _headers_for(api, email="alice@example.com") -> dict[str, str]:
    response = api.admin("POST", "/v1/unsubscribe-headers", {"email": email, "list_id": "newsletter"})
    assert response.status_code == 200, response.body
    return response.json_body["headers"]


def _post(api, body: bytes, content_type="message/rfc822", key: str | None = KEY, api_key="dev-admin-key"):
    headers = {"Content-Type": content_type, "X-Api-Key": api_key, **({"DKIM-Key": key} if key else {})}
    return api.http.request("POST", "/v1/preflight", headers=headers, body=body)


def test_a_good_message_is_ready(api):
    response = _post(api, sign(compose(good_headers(_headers_for(api)))))
    assert response.status_code == 200, response.body
    assert response.json_body["ready"] is True
    assert {f["status"] for f in response.json_body["findings"]} == {"pass"}
    assert len(response.json_body["findings"]) == 8


def test_a_broken_message_is_answered_with_what_to_fix(api):
    headers = [(n, v) for n, v in good_headers(_headers_for(api)) if n != "List-Unsubscribe-Post"]
    response = _post(api, sign(compose(headers)))
    assert response.status_code == 200
    assert response.json_body["ready"] is False
    [failed] = [f for f in response.json_body["findings"] if f["status"] == "fail"]
    assert failed["check"] == "list_unsubscribe_post" and "List-Unsubscribe=One-Click" in failed["message"]


def test_the_route_unsubscribes_nobody(api):
    _post(api, sign(compose(good_headers(_headers_for(api)))))
    assert api.allowed("alice@example.com")["allowed"] is True


def test_what_the_route_refuses_is_a_clear_4xx(api):
    message = sign(compose(good_headers(_headers_for(api))))
    assert _post(api, message, api_key="wrong").status_code == 401
    wrong_type = _post(api, message, content_type="application/json")
    assert wrong_type.status_code == 415 and "message/rfc822" in wrong_type.json_body["message"]
    not_a_message = _post(api, b'{"list_id": "newsletter"}')
    assert not_a_message.status_code == 400 and not_a_message.json_body["error"] == "not_a_message"
    too_large = _post(api, message + b"x" * MAX_MESSAGE_BYTES)
    assert too_large.status_code == 413 and too_large.json_body["error"] == "too_large"
    bad_key = _post(api, message, key="not a key")
    assert bad_key.status_code == 400 and bad_key.json_body["error"] == "bad_dkim_key"
    garbage = _post(api, b"From: x\r\nDKIM-Signature: \xff\xfe; d=\r\nList-Unsubscribe: <https://[x/>\r\n\r\n\xff")
    assert garbage.status_code == 200 and garbage.json_body["ready"] is False


def test_an_8bit_message_through_the_lambda_handler_verifies(api):
    """As API Gateway delivers a binary media type: base64 in the proxy event. The body has
    Latin-1 bytes that are no UTF-8, so any text round trip would break its DKIM body hash."""
    import base64
    import json

    import app as application

    body = "Gr\xfc\xdfe aus M\xfcnchen,\r\n\r\nthe weekly news.\r\n"
    message = sign(
        compose(good_headers(_headers_for(api))).replace(b"Hello,\r\n\r\nthe weekly news.\r\n", b"")
        + body.encode("latin-1")
    )
    event = {
        "resource": "/v1/preflight",
        "path": "/v1/preflight",
        "httpMethod": "POST",
        "headers": {"Content-Type": "message/rfc822", "X-Api-Key": "dev-admin-key", "DKIM-Key": KEY},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/v1/preflight",
            "httpMethod": "POST",
            "requestId": "r1",
            "identity": {"sourceIp": "192.0.2.1"},
        },
        "body": base64.b64encode(message).decode(),
        "isBase64Encoded": True,
    }
    answer = application.app(event, None)
    findings = json.loads(answer["body"])
    assert answer["statusCode"] == 200, findings
    assert findings["ready"] is True, findings
