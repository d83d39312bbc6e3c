"""HTTP for every route: the request of this thread, reading bodies, building responses,
admin authentication, and ONE endpoint decorator that turns service errors into answers.

The decorator has three variants, by who calls the route:
- "json":    machines (senders, operators, webhooks): a JSON problem `{"error", "message"}`.
- "browser": the exit-intent snippet on a shop's page: JSON with CORS for the calling origin.
- "page":    people: a translated, branded HTML page.
Anything unexpected is logged once and answered with a clean 500 of the route's kind, never a
framework error or a stack trace.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import threading
import time
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from chalice import Response

from chalicelib.core import errors
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings

_bound = threading.local()


def bind_request(request, get_response):
    """HTTP middleware: remember this thread's request for the endpoint decorator.
    `app.current_request` is shared by all threads, which `chalice local` runs concurrently; the
    request handed to middleware is this call's own."""
    _bound.request = request
    return get_response(request)


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
MAX_JSON_DEPTH = 32
# Routes that read no body (GET, DELETE) take any Content-Type a client sends with them.
ANY_CONTENT = ["*/*"]


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        body=json.dumps(body, default=str),
        status_code=status,
        headers={"Content-Type": "application/json", **NO_STORE, **(headers or {})},
    )


def problem(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    return json_response({"error": code, "message": message}, status, headers)


def html_response(body: str, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body=body, status_code=status, headers={**HTML_HEADERS, **(headers or {})})


def redirect(location: str) -> Response:
    return Response(body="", status_code=303, headers={"Location": location, "Content-Type": "text/plain", **NO_STORE})


def header(request, name: str) -> str | None:
    return (request.headers or {}).get(name.lower()) or (request.headers or {}).get(name)


def wants_html(request) -> bool:
    """An operator's browser asks for the page (`Accept: text/html` or `?format=html`, or a signed
    page link); anything else gets the same report as JSON."""
    accept = header(request, "accept") or ""
    query = request.query_params or {}
    return query.get("format") == "html" or accept.startswith("text/html") or is_page_link_route(request)


def client_ip(request) -> str | None:
    return ((request.context or {}).get("identity") or {}).get("sourceIp")


def raw_body(request) -> bytes:
    body = request.raw_body
    return body if isinstance(body, bytes) else (body or "").encode()


def media_type(request) -> str:
    return (header(request, "content-type") or "").split(";")[0].strip().lower()


def _depth(value, limit: int) -> int:
    """How deeply lists and objects nest (stops counting past `limit`)."""
    depth, level = 0, [value]
    while level and depth <= limit:
        depth += 1
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
    return depth


def _not_json(constant: str):
    # Python's json reads NaN and Infinity, which RFC 8259 (section 6) does not allow: refused here
    # so no route stores one or echoes it back as a body no JSON parser reads.
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    """A JSON number too large for a double (`1e400`) would be read as infinity and written back
    as `Infinity`, which is not JSON: refused like the constant."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number too large for a double is not accepted")
    return value


def json_body(request, limit: int = 64 * 1024, media_types: tuple[str, ...] = ("application/json",)) -> dict:
    """The request's JSON object; anything else is an error naming what to fix."""
    if media_type(request) not in media_types:
        raise errors.UnsupportedMediaType("unsupported_media_type", f"send {' or '.join(media_types)}")
    body = raw_body(request)
    if len(body) > limit:
        raise errors.TooLarge("too_large", f"the body is larger than {limit} bytes")
    try:
        value = json.loads(body or b"null", parse_constant=_not_json, parse_float=_finite)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise errors.Invalid("malformed_json", "the body is not valid JSON") from error
    if not isinstance(value, dict):
        raise errors.Invalid("malformed_json", "the body must be a JSON object")
    if _depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise errors.Invalid("malformed_json", f"the body nests deeper than {MAX_JSON_DEPTH} levels")
    return value


def is_admin(request) -> bool:
    """In AWS, API Gateway has verified the caller's IAM signature (the IAM authorizer) before the
    request gets here. Locally, a key from ADMIN_API_KEYS in `X-Api-Key`, compared in constant time."""
    identity = (request.context or {}).get("identity") or {}
    if get_settings().stage != "dev" and identity.get("userArn"):
        return True
    offered = header(request, "x-api-key") or ""
    return bool(offered) and any(
        hmac.compare_digest(offered.encode(), key.encode()) for key in get_settings().admin_api_keys
    )


# Signed page links: a report page opened in a browser, which sends neither an IAM signature nor
# an X-Api-Key. The operator's CLI mints `/reports/...?...&expires=<unix>&kid=<key id>&sig=<HMAC>`
# with the stage's signing keys (SIGNING_KEYS, rotated like the unsubscribe tokens' and told apart
# from them by a key derived for this purpose only); the signature covers the path (URL
# parameters filled in), every query parameter and the expiry, so a link opens one page, as it
# was minted, for minutes. These routes have no IAM authorizer (API Gateway would refuse the
# browser before we could check the link).
PAGE_LINK_PREFIX = "/reports/"
PAGE_LINK_MAX_MINUTES = 60
_LINK_PARAMS = ("expires", "kid", "sig")


class LinkRefused(errors.NotAuthenticated):
    """A page link that is missing, expired, for another page, or altered."""


def _page_link_key(key: bytes) -> bytes:
    return hmac.new(key, b"offboard page link v1", hashlib.sha256).digest()


def _page_link_signature(key: bytes, path: str, query: dict[str, str]) -> str:
    canonical = path + "?" + urlencode(sorted((k, v) for k, v in query.items() if k != "sig"))
    digest = hmac.new(_page_link_key(key), canonical.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_page_link(path: str, query: dict[str, str], minutes: int, now: float | None = None) -> str:
    """The URL (PUBLIC_BASE_URL + path) that opens the report page at `path` for `minutes`."""
    if not path.startswith(PAGE_LINK_PREFIX):
        raise ValueError(f"page links open {PAGE_LINK_PREFIX}... pages only")
    if not 0 < minutes <= PAGE_LINK_MAX_MINUTES:
        raise ValueError(f"a page link lasts 1 to {PAGE_LINK_MAX_MINUTES} minutes")
    settings = get_settings()
    expires = int(now if now is not None else time.time()) + 60 * minutes
    signed = {**{k: v for k, v in query.items() if v is not None}, "expires": str(expires)}
    signed["kid"] = settings.signing_key_id
    signed["sig"] = _page_link_signature(settings.signing_key, path, signed)
    return f"{settings.public_base_url}{path}?{urlencode(signed)}"


def is_page_link_route(request) -> bool:
    return ((request.context or {}).get("resourcePath") or "").startswith(PAGE_LINK_PREFIX)


def check_page_link(request, params: dict[str, str], now: float | None = None) -> None:
    """Nothing when the request carries a valid link for its own path; LinkRefused otherwise."""
    query = dict(request.query_params or {})
    if not all(query.get(name) for name in _LINK_PARAMS):
        raise LinkRefused("link_missing", "This page opens only with a signed link: ask the operator's CLI for one.")
    path = request.context["resourcePath"].format(**params)
    key = get_settings().signing_keys.get(query["kid"])
    if key is None or not hmac.compare_digest(_page_link_signature(key, path, query), query["sig"]):
        raise LinkRefused("link_invalid", "This link is not valid for this page (altered, or signed for another one).")
    now = time.time() if now is None else now
    try:
        expires = int(query["expires"])
    except ValueError:
        raise LinkRefused("link_invalid", "This link is not valid for this page.") from None
    if expires <= now:
        raise LinkRefused("link_expired", "This link has expired: ask the operator's CLI for a new one.")
    if expires > now + 60 * PAGE_LINK_MAX_MINUTES:
        raise LinkRefused("link_invalid", "This link lasts longer than a page link may.")


def _refused_page(error: LinkRefused) -> Response:
    from chalicelib.core.pages import render_plain

    count("RejectedInputs", kind=error.code)
    status = 401 if error.code == "link_missing" else 403
    return html_response(render_plain("report_refused.html", message=error.message), status)


# Errors -> answers.

STATUS = (
    (errors.TooLarge, 413),
    (errors.UnsupportedMediaType, 415),
    (errors.Invalid, 400),
    (errors.NotAuthenticated, 401),
    (errors.Forbidden, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.TooMany, 429),
    (errors.Unavailable, 503),
)
# A shop's page from an origin the site does not allow learns nothing from our answer.
NO_CORS_CODES = ("origin_not_allowed", "unknown_site")


def status_of(error: errors.ServiceError) -> int:
    return next((status for kind, status in STATUS if isinstance(error, kind)), 400)


def _retry_headers(error: Exception) -> dict:
    seconds = getattr(error, "retry_after", 5)
    return {"Retry-After": str(seconds)} if seconds else {}


def cors(origin: str | None) -> dict:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}


def language_of(request) -> str:
    from chalicelib.core import i18n

    return i18n.negotiate(header(request, "accept-language"))


def error_page(
    request, status: int, message_key: str, mailing_list=None, status_class: str = "error", headers=None, mailto=None
) -> Response:
    """A person-facing page saying what happened, in their language and the list's branding."""
    from chalicelib.core import i18n
    from chalicelib.core.pages import render

    language = language_of(request)
    message = i18n.translator(language)(message_key)
    page = render(
        "error.html",
        language,
        mailing_list,
        message=message,
        status_class=status_class,
        # a broken or cut link still offers a way out: fresh links by email
        link_request_action=link_request_url() if message_key in BROKEN_LINK_KEYS else None,
        mailto=mailto,
    )
    return html_response(page, status, headers)


BROKEN_LINK_KEYS = ("error.invalid_token", "error.unknown_list")
LINK_REQUEST_PATH = "/unsubscribe/request"


def link_request_url() -> str:
    """The broken-link form's address (relative when the settings cannot be read)."""
    from chalicelib.core.settings import get_settings

    try:
        return get_settings().public_base_url + LINK_REQUEST_PATH
    except Exception:  # an error page must render even without its settings
        return LINK_REQUEST_PATH


def _viewing(request) -> bool:
    """A GET only shows a page: "we could not save your choice" would be untrue there."""
    return getattr(request, "method", "GET") in ("GET", "HEAD")


def _page_key(error: errors.ServiceError, request) -> str:
    from chalicelib.core import i18n

    key = f"error.{error.code}"
    if key in i18n.MESSAGES[i18n.DEFAULT]:
        return key
    if isinstance(error, errors.NotFound):
        return "error.not_found"
    if isinstance(error, errors.Unavailable):
        return "error.unavailable_view" if _viewing(request) else "error.unavailable"
    return "error.bad_form"


def _answer_error(kind: str, request, error: errors.ServiceError) -> Response:
    status = status_of(error)
    headers = _retry_headers(error) if status in (429, 503) else {}
    if status < 500:
        count("RejectedInputs", kind=error.code)
    if kind == "page":
        return error_page(
            request, status, _page_key(error, request), getattr(error, "mailing_list", None), headers=headers
        )
    if kind == "browser" and error.code not in NO_CORS_CODES and status < 500:
        headers = {**headers, **cors(header(request, "origin"))}
    return problem(status, error.code, error.message, headers)


def _answer_unavailable(kind: str, request) -> Response:
    headers = {"Retry-After": "2" if kind == "browser" else "5"}  # a visitor is leaving: retry soon or never
    if kind == "browser":
        headers.update(cors(header(request, "origin")))  # so the snippet can read it and stay quiet
    if kind == "page":
        key = "error.unavailable_view" if _viewing(request) else "error.unavailable"
        return error_page(request, 503, key, headers=headers)
    return problem(503, "unavailable", "try again shortly", headers)


def _answer_crash(kind: str, request) -> Response:
    if kind == "page":
        return error_page(request, 500, "error.internal")
    return problem(500, "internal", "something went wrong on our side; it has been logged")


def _as_response(kind: str, request, result) -> Response:
    if isinstance(result, Response):
        response = result
    elif isinstance(result, tuple):
        status, body = result
        response = json_response(body, status)
    else:
        response = json_response(result)
    if kind == "browser":
        response.headers.update(cors(header(request, "origin")))
    return response


def _unavailable_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError
    from pynamodb.exceptions import PynamoDBException

    return PynamoDBException, BotoCoreError


def endpoint(kind: str | Callable[[object], str] = "json", admin: bool = False):
    """Wrap a route handler `handler(request, **url_params)`.

    It returns a `Response`, a dict (200 JSON) or `(status, dict)`. `kind` may be a function of
    the request, for a route that serves both machines and people. `admin=True` requires the
    admin identity (IAM in AWS, an API key locally) before the handler runs; on a page-link route
    (`/reports/...`, no IAM authorizer) a valid signed link instead, and a refusal is a page.
    """

    def decorate(handler):
        @wraps(handler)
        def run(**params):
            request = current_request()
            answer_as = kind(request) if callable(kind) else kind
            if admin and is_page_link_route(request):
                answer_as = "page"  # a browser opened a signed link
            try:
                if admin and is_page_link_route(request):
                    check_page_link(request, params)
                elif admin and not is_admin(request):
                    raise errors.NotAuthenticated("unauthorized", "send a valid X-Api-Key")
                return _as_response(answer_as, request, handler(request, **params))
            except LinkRefused as error:
                return _refused_page(error)
            except errors.StorageUnavailable:  # answered as the store's own exceptions always were
                logger.exception("storage unavailable")
                return _answer_unavailable(answer_as, request)
            except errors.ServiceError as error:
                return _answer_error(answer_as, request, error)
            except _unavailable_errors():
                logger.exception("storage unavailable")
                return _answer_unavailable(answer_as, request)
            except Exception:
                logger.exception("unexpected error")
                count("UnexpectedErrors")
                return _answer_crash(answer_as, request)

        return run

    return decorate


def admin_authorizer():
    """The operators' and senders' routes: IAM (SigV4) in AWS; locally `chalice local` admits IAM
    routes and `endpoint(admin=True)` requires X-Api-Key instead."""
    import warnings

    from chalice import IAMAuthorizer

    warnings.filterwarnings("ignore", message="IAMAuthorizer is not a supported in local mode")
    return IAMAuthorizer()


ADMIN = admin_authorizer()
