"""The browser-facing offer endpoints, called by the snippet from shops' pages.

The offer services are imported on first use, so the unsubscribe routes that share this
Lambda do not pay for them at cold start (and the other way round)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import wraps
from pathlib import Path

from chalice import Response
from pynamodb.exceptions import PynamoDBException

from chalicelib.errors import BadRequest, ServiceUnavailable
from chalicelib.identity import hash_ip
from chalicelib.observability import count, logger
from chalicelib.settings import get_settings
from chalicelib.web import client_ip, header, json_body, json_response, problem

# The snippet posts JSON as text/plain: a "simple" cross-origin request needs no preflight, so
# there is no OPTIONS route. Servers may send application/json (no CORS involved).
BROWSER_CONTENT_TYPES = ["text/plain", "application/json"]
MAX_BROWSER_BODY = 8 * 1024
SNIPPET = Path(__file__).parent / "static" / "snippet.js"


def _origin(request) -> str | None:
    return header(request, "origin") or None


def _cors(origin: str | None) -> dict:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if origin else {}


def browser_endpoint(handler):
    """JSON in (text/plain or application/json), JSON out with CORS for the calling origin;
    every refusal a 4xx, storage trouble a 503."""

    @wraps(handler)
    def wrapper(request):
        origin = _origin(request)
        try:
            data = json_body(request, MAX_BROWSER_BODY, tuple(BROWSER_CONTENT_TYPES))
            status, answer = handler(request, data)
            return json_response(answer, status, _cors(origin))
        except BadRequest as error:
            count("RejectedInputs", kind=error.code)
            # CORS headers only for an origin the site allows, so other sites learn nothing.
            allowed = origin if error.code not in ("origin_not_allowed", "unknown_site") else None
            return problem(error.status, error.code, str(error), _cors(allowed))
        except (PynamoDBException, ServiceUnavailable):
            logger.exception("offer storage unavailable")
            return problem(503, "unavailable", "try again shortly", {"Retry-After": "2"})

    return wrapper


@browser_endpoint
def decide(request, data):
    from chalicelib import offer_service
    from chalicelib.offer_decision import parse_visit

    visit = parse_visit(data, header(request, "user-agent"))
    answer = offer_service.decide_offer(
        visit, _origin(request), hash_ip(get_settings().ip_hash_key, client_ip(request))
    )
    count("Decisions", outcome=answer.reason)
    if answer.coupon and answer.reason == "offer":
        logger.info("offer decided", extra={"campaign_id": answer.campaign_id, "variant_id": answer.variant_id})
    return 200, answer.as_dict()


def _coupon_for_site(data):
    from chalicelib.coupon_codes import normalize_code
    from chalicelib.storage import offers

    code = normalize_code(data.get("code"))
    coupon = offers.get_coupon(code) if code else None
    if coupon is None or coupon.site_key != data.get("site_key"):
        raise BadRequest("unknown_code", "no such code for this site", 404)
    return coupon


@browser_endpoint
def record_event(request, data):
    """`impression` when the dialog actually rendered; `claim` when the visitor copied or applied the code."""
    from chalicelib import offer_service
    from chalicelib.storage import offers

    field = {"impression": "impressed_at", "claim": "claimed_at"}.get(data.get("event"))
    if field is None:
        raise BadRequest("bad_event", "event must be impression or claim")
    site, _ = offer_service.load_site(data.get("site_key") or "", None)
    offer_service.check_site(site, _origin(request))
    coupon = _coupon_for_site(data)
    counted = offers.mark_coupon(
        coupon.site_key, coupon.code, coupon.campaign_id, coupon.variant_id, field, datetime.now(UTC)
    )
    if counted:
        count("OfferEvents", event=data["event"])
    return 200, {"counted": counted}


@browser_endpoint
def record_conversion(request, data):
    """The shop's order-complete page: counts a conversion for the arm (variant or holdout) the
    visitor was assigned, once per campaign, so lift against the holdout can be measured."""
    from chalicelib import offer_service
    from chalicelib.storage import offers

    visitor_id = data.get("visitor_id")
    if not isinstance(visitor_id, str) or not visitor_id:
        raise BadRequest("missing_field", "visitor_id is required")
    site, visitor = offer_service.load_site(data.get("site_key") or "", visitor_id)
    offer_service.check_site(site, _origin(request))
    counted = 0
    for campaign_id, state in dict((visitor.campaigns if visitor else None) or {}).items():
        if state.get("arm") and not state.get("converted"):
            visitor.campaigns = {**visitor.campaigns, campaign_id: {**state, "converted": True}}
            counted += offers.count_conversion(visitor, site.site_key, campaign_id, state["arm"])
    return 200, {"counted": counted}


@browser_endpoint
def email_code(request, data):
    """Send the code to an address the visitor types; the address is used for this one email
    and not stored. Addresses suppressed after bounces or complaints are not written to."""
    from chalicelib import offer_service
    from chalicelib.offer_email import send_offer_email
    from chalicelib.storage import offers

    site, _ = offer_service.load_site(data.get("site_key") or "", None)
    offer_service.check_site(site, _origin(request))
    coupon = _coupon_for_site(data)
    if coupon.redeemed_at is not None or coupon.expires_at <= datetime.now(UTC):
        raise BadRequest("code_not_valid", "this code is no longer valid", 409)
    send_offer_email(data.get("email"), coupon)
    offers.mark_coupon(
        coupon.site_key, coupon.code, coupon.campaign_id, coupon.variant_id, "claimed_at", datetime.now(UTC)
    )
    count("OfferEmails")
    return 202, {"sent": True}


def snippet(request):
    return Response(
        body=SNIPPET.read_text(),
        status_code=200,
        headers={"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "public, max-age=300"},
    )


def demo_shop(request):
    """A page that carries the snippet, for trying offers locally (DEMO_PAGES=1 only)."""
    import os

    from chalicelib.pages import render_plain
    from chalicelib.web import html_response

    if os.environ.get("DEMO_PAGES") != "1":
        return problem(404, "not_found", "no such page")
    query = request.query_params or {}
    min_seconds = query.get("min_seconds", "")
    page = render_plain(
        "demo_shop.html",
        base_url=get_settings().public_base_url,
        site_key=query.get("site", "demo-shop"),
        cart_value=120,
        currency="USD",
        min_seconds=min_seconds if min_seconds.isdigit() else "2",
    )
    response = html_response(page)
    response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'unsafe-inline'; connect-src 'self'"
    return response
