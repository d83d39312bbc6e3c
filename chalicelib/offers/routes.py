"""Exit-intent offers: the snippet and the browser endpoints it calls from shops' pages, the
operators' sites and campaigns, and code validation and redemption for any channel.

The offer services are imported on first use, so the unsubscribe routes that share this
Lambda do not pay for them at cold start (and the other way round)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from chalice import Blueprint, Response

from chalicelib.core.errors import Invalid, NotFound
from chalicelib.core.http import ADMIN, ANY_CONTENT, client_ip, endpoint, header, html_response, json_body, wants_html
from chalicelib.core.ids import hash_ip
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings

bp = Blueprint(__name__)

# The snippet posts JSON as text/plain: a "simple" cross-origin request needs no preflight, so
# there is no OPTIONS route. Servers may send application/json (no CORS involved).
BROWSER_CONTENT_TYPES = ["text/plain", "application/json"]
MAX_BROWSER_BODY = 8 * 1024
SNIPPET = Path(__file__).parent / "static" / "snippet.js"


def _browser_body(request) -> dict:
    return json_body(request, MAX_BROWSER_BODY, tuple(BROWSER_CONTENT_TYPES))


def _origin(request) -> str | None:
    return header(request, "origin") or None


@bp.route("/offers/snippet.js", methods=["GET"], content_types=ANY_CONTENT)
@endpoint()
def offer_snippet(request):
    return Response(
        body=SNIPPET.read_text(),
        status_code=200,
        headers={"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "public, max-age=300"},
    )


@bp.route("/offers/decide", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("browser")
def offer_decision(request):
    from chalicelib.offers import service
    from chalicelib.offers.decision import parse_visit

    visit = parse_visit(_browser_body(request), header(request, "user-agent"))
    ip_hash = hash_ip(get_settings().ip_hash_key, client_ip(request))
    answer = service.decide_offer(visit, _origin(request), ip_hash)
    count("Decisions", outcome=answer.reason)
    if answer.coupon and answer.reason == "offer":
        logger.info("offer decided", extra={"campaign_id": answer.campaign_id, "variant_id": answer.variant_id})
    return answer.as_dict()


@bp.route("/offers/events", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("browser")
def offer_event(request):
    """`impression` when the dialog was actually seen; `claim` when the visitor copied or applied
    the code; `dismiss` when they closed it (close, Esc, or "never": don't show again)."""
    from chalicelib.offers import service
    from chalicelib.storage import offers

    data = _browser_body(request)
    event = data.get("event")
    if event == "dismiss":  # closed, Esc or "don't show again": the next offer waits longer
        site = service.site_for_page(data.get("site_key"), _origin(request))
        return {"counted": service.record_dismissal(site, data)}
    field = {"impression": "impressed_at", "claim": "claimed_at"}.get(event) if isinstance(event, str) else None
    if field is None:
        raise Invalid("bad_event", "event must be impression, claim or dismiss")
    site = service.site_for_page(data.get("site_key"), _origin(request))
    service.allow_event(site.site_key, hash_ip(get_settings().ip_hash_key, client_ip(request)))
    try:
        coupon = service.coupon_for_site(data.get("code"), site.site_key)
    except NotFound:
        return {"counted": False}  # the same answer as for a real code counted before: no oracle
    counted = offers.mark_coupon(
        coupon.site_key, coupon.code, coupon.campaign_id, coupon.variant_id, field, datetime.now(UTC)
    )
    if counted:
        count("OfferEvents", event=event)
    return {"counted": counted}


@bp.route("/offers/conversions", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("browser")
def offer_conversion(request):
    """The shop's order-complete page: counts a conversion for the arm (variant or holdout) the
    visitor was assigned, once per campaign, so lift against the holdout can be measured."""
    from chalicelib.offers import service

    data = _browser_body(request)
    if not isinstance(data.get("visitor_id"), str) or not data["visitor_id"]:
        raise Invalid("missing_field", "visitor_id is required")
    site = service.site_for_page(data.get("site_key"), _origin(request))
    return {"counted": service.record_conversion(site, data["visitor_id"])}


@bp.route("/offers/email", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("browser")
def offer_email(request):
    """Send the code to an address the visitor types; the address is used for this one email
    and not stored. Addresses suppressed after bounces or complaints are not written to."""
    from chalicelib.offers import service

    data = _browser_body(request)
    site = service.site_for_page(data.get("site_key"), _origin(request))
    service.email_code(site, data, _origin(request), hash_ip(get_settings().ip_hash_key, client_ip(request)))
    return 202, {"accepted": True}


@bp.route("/demo/shop", methods=["GET"], content_types=ANY_CONTENT)
@endpoint("page")
def demo_shop(request):
    """A page that carries the snippet, for trying offers locally (DEMO_PAGES=1 only)."""
    from chalicelib.core.pages import render_plain

    settings = get_settings()
    if not settings.demo_pages:
        raise NotFound("not_found", "no such page")
    query = request.query_params or {}
    min_seconds = query.get("min_seconds", "")
    page = render_plain(
        "demo_shop.html",
        base_url=settings.public_base_url,
        site_key=query.get("site", "demo-shop"),
        cart_value=120,
        currency="USD",
        min_seconds=min_seconds if min_seconds.isdigit() else "2",
    )
    csp = "default-src 'self'; style-src 'unsafe-inline'; connect-src 'self'"
    return html_response(page, headers={"Content-Security-Policy": csp})


# Operators: sites, campaigns, the kill switch, reports.


@bp.route("/v1/sites", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def create_site(request):
    from chalicelib.offers import admin

    body = json_body(request)
    return 201, admin.create_site(body.get("site_key"), body.get("name"), body.get("allowed_origins"))


@bp.route("/v1/sites/{site_key}/campaigns/{campaign_id}", methods=["PUT"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def put_campaign(request, site_key, campaign_id):
    from chalicelib.offers import admin

    return admin.put_campaign(site_key, campaign_id, json_body(request))


@bp.route(
    "/v1/sites/{site_key}/campaigns/{campaign_id}/enabled", methods=["PUT"], content_types=ANY_CONTENT, authorizer=ADMIN
)
@endpoint(admin=True)
def campaign_kill_switch(request, site_key, campaign_id):
    from chalicelib.offers import admin

    return admin.set_enabled(site_key, campaign_id, json_body(request).get("enabled"))


@bp.route(
    "/v1/sites/{site_key}/campaigns/{campaign_id}/report", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN
)
@endpoint(admin=True)
def campaign_report(request, site_key, campaign_id):
    """JSON, or a page with a chart for a browser (`Accept: text/html` or `?format=html`)."""
    from chalicelib.offers import admin

    if wants_html(request):
        return html_response(admin.campaign_report_page(site_key, campaign_id))
    return admin.campaign_report(site_key, campaign_id)


# Any channel (web checkout, a store's till, a call centre): validate, then redeem exactly once.


@bp.route("/v1/codes/{code}", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def validate_code(request, code):
    from chalicelib.offers import service

    return service.describe_code(code)


@bp.route("/v1/codes/{code}/redemptions", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def redeem_code(request, code):
    from chalicelib.offers import service

    body = json_body(request)
    outcome, answer = service.redeem_code(
        code,
        body.get("order_ref"),
        body.get("channel"),
        order_value=body.get("order_value"),
        currency=body.get("currency"),
        store_id=body.get("store_id"),
        customer_id=body.get("customer_id"),
        first_order=body.get("first_order"),
    )
    count("Redemptions", outcome=outcome)
    return service.REDEEM_STATUS[outcome], answer


@bp.route("/v1/codes/{code}/rollbacks", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def roll_back_code(request, code):
    """The order was cancelled or refunded: the redemption is undone, once, within the window."""
    from chalicelib.offers import service

    return service.roll_back_code(code, json_body(request).get("order_ref"))
