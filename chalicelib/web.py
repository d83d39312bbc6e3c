"""Small HTTP helpers shared by the handlers: responses, client facts, admin authentication."""

from __future__ import annotations

import hmac
import json
import threading

from chalice import Response

from chalicelib.errors import BadRequest
from chalicelib.settings import get_settings

_bound = threading.local()


def bind_request(request) -> None:
    """Remember this thread's request. `app.current_request` is shared by all threads, which
    `chalice local` runs concurrently; the request handed to middleware is this call's own."""
    _bound.request = request


def current_request():
    return _bound.request


NO_STORE = {"Cache-Control": "no-store"}
HTML_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https:; form-action 'self'; frame-ancestors 'none'",
}


def json_response(body: dict, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        body=json.dumps(body, default=str),
        status_code=status,
        headers={"Content-Type": "application/json", **NO_STORE, **(headers or {})},
    )


def problem(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return json_response({"error": code, "message": message}, status, headers)


def html_response(body: str, status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers=dict(HTML_HEADERS))


def redirect(location: str) -> Response:
    return Response(body="", status_code=303, headers={"Location": location, **NO_STORE})


def header(request, name: str) -> str | None:
    return (request.headers or {}).get(name.lower()) or (request.headers or {}).get(name)


def client_ip(request) -> str | None:
    return ((request.context or {}).get("identity") or {}).get("sourceIp")


def raw_body(request) -> bytes:
    body = request.raw_body
    return body if isinstance(body, bytes) else (body or "").encode()


def json_body(request, limit: int = 64 * 1024, media_types: tuple[str, ...] = ("application/json",)) -> dict:
    """The request's JSON object; anything else is a BadRequest naming what to fix."""
    media_type = (header(request, "content-type") or "").split(";")[0].strip().lower()
    if media_type not in media_types:
        raise BadRequest("unsupported_media_type", f"send {' or '.join(media_types)}", 415)
    body = raw_body(request)
    if len(body) > limit:
        raise BadRequest("too_large", f"the body is larger than {limit} bytes", 413)
    try:
        value = json.loads(body or b"null")
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequest("malformed_json", "the body is not valid JSON") from error
    if not isinstance(value, dict):
        raise BadRequest("malformed_json", "the body must be a JSON object")
    return value


def is_admin(request) -> bool:
    """In AWS, API Gateway has verified the caller's IAM signature (the IAM authorizer) before the
    request gets here. Locally, a key from ADMIN_API_KEYS in `X-Api-Key`, compared in constant time."""
    identity = (request.context or {}).get("identity") or {}
    if get_settings().stage != "dev" and identity.get("userArn"):
        return True
    offered = header(request, "x-api-key") or ""
    return any(hmac.compare_digest(offered.encode(), key.encode()) for key in get_settings().admin_api_keys) and bool(
        offered
    )
