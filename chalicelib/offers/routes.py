"""Exit-intent offers: the snippet and the browser endpoints it calls from shops' pages, the
operators' sites and campaigns, and code validation and redemption for any channel.

The offer services are imported on first use, so the unsubscribe routes that share this
Lambda do not pay for them at cold start (and the other way round)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from chalice import Blueprint, Response

from chalicelib.core.errors import Invalid, NotFound
from chalicelib.core.http import ADMIN, ANY_CONTENT, client_ip, endpoint, header, html_response, json_body, wants_html
from chalicelib.core.ids import hash_ip
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings
from chalicelib.domain.coupons import Channel, Outcome
from chalicelib.domain.money import to_number

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
    if answer.offer and answer.reason == "offer":
        logger.info("offer decided", extra={"campaign_id": answer.campaign_id, "variant_id": answer.variant_id})
    return decision_body(answer)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(terms) -> int | float:
    """What a code is worth as the wire says it: the percent, or the amount as a decimal."""
    if terms.kind == "percent":
        return terms.percent
    return to_number(terms.amount, terms.currency) if terms.kind == "amount" else 0


def _max_discount(terms) -> dict:
    return {} if terms.max_discount is None else {"max_discount": to_number(terms.max_discount, terms.currency)}


def decision_body(answer) -> dict:
    body = {"show": answer.show, "reason": answer.reason}
    if answer.campaign_id:
        body["campaign_id"] = answer.campaign_id
    if answer.variant_id:
        body["variant_id"] = answer.variant_id
    if answer.offer:
        offer = answer.offer
        body["offer"] = {
            "code": offer.code,
            "kind": str(offer.terms.kind),
            "value": _value(offer.terms),
            "currency": offer.terms.currency,
            **_max_discount(offer.terms),
            "expires_at": iso(offer.expires_at),
            "expires_in_seconds": offer.expires_in_seconds,
            "texts": offer.texts,
        }
    if answer.message:
        body["message"] = {"texts": answer.message}
    return body


@bp.route("/offers/events", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("browser")
def offer_event(request):
    """`impression` when the dialog was actually seen; `claim` when the visitor copied or applied
    the code; `dismiss` when they closed it (close, Esc, or "never": don't show again)."""
    from chalicelib.core.contracts import validate
    from chalicelib.offers import service
    from chalicelib.offers.contracts import OfferEvent
    from chalicelib.storage import offers

    data = _browser_body(request)
    sent = validate(OfferEvent, data, lambda name: "bad_event" if name == "event" else "bad_field")
    event = sent.event
    site = service.site_for_page(sent.site_key, _origin(request))
    # Every event is throttled per client before anything is read or stored: a flood of
    # dismissals would otherwise write a visitor record each.
    service.allow_event(site.site_key, hash_ip(get_settings().ip_hash_key, client_ip(request)))
    if event == "dismiss":  # closed, Esc or "don't show again": the next offer waits longer
        from chalicelib.offers.decision import parse_dismissal

        return {"counted": service.record_dismissal(site, parse_dismissal(data))}
    field = {"impression": "impressed_at", "claim": "claimed_at"}[event]
    try:
        coupon = service.coupon_for_site(sent.code, site.site_key)
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
    from chalicelib.core.contracts import validate
    from chalicelib.offers import service
    from chalicelib.offers.contracts import Conversion

    sent = validate(
        Conversion, _browser_body(request), lambda name: "missing_field" if name == "visitor_id" else "bad_field"
    )
    site = service.site_for_page(sent.site_key, _origin(request))
    return {"counted": service.record_conversion(site, sent.visitor_id)}


@bp.route("/offers/email", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("browser")
def offer_email(request):
    """Send the code to an address the visitor types; the address is used for this one email
    and not stored. Addresses suppressed after bounces or complaints are not written to."""
    from chalicelib.core.contracts import validate
    from chalicelib.offers import service
    from chalicelib.offers.contracts import OfferEmail

    sent = validate(OfferEmail, _browser_body(request), lambda name: "bad_email" if name == "email" else "bad_field")
    site = service.site_for_page(sent.site_key, _origin(request))
    ip_hash = hash_ip(get_settings().ip_hash_key, client_ip(request))
    service.email_code(site, sent.email, sent.code, _origin(request), ip_hash)
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


def _site_code(field: str) -> str:
    return {"site_key": "bad_site", "name": "bad_name"}.get(field, "bad_origin")


@bp.route("/v1/sites", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def create_site(request):
    from chalicelib.core.contracts import validate
    from chalicelib.offers import admin
    from chalicelib.offers.contracts import Site

    site = validate(Site, json_body(request), _site_code)
    return 201, admin.create_site(site.site_key, site.name, site.allowed_origins)


@bp.route("/v1/sites/{site_key}/secrets", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def rotate_site_secret(request, site_key):
    """A new identity-verification secret; the previous one is still accepted until the next rotation."""
    from chalicelib.offers import admin

    return admin.rotate_secret(site_key)


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
    from chalicelib.core.contracts import validate
    from chalicelib.offers import admin
    from chalicelib.offers.contracts import KillSwitch

    return admin.set_enabled(site_key, campaign_id, validate(KillSwitch, json_body(request), "bad_field").enabled)


@bp.route(
    "/v1/sites/{site_key}/campaigns/{campaign_id}/report", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN
)
@bp.route(
    "/reports/sites/{site_key}/campaigns/{campaign_id}", methods=["GET"], content_types=ANY_CONTENT
)  # signed link
@endpoint(admin=True)
def campaign_report(request, site_key, campaign_id):
    """JSON, or a page with a chart for a browser (`Accept: text/html` or `?format=html`)."""
    from chalicelib.offers import admin

    if wants_html(request):
        return html_response(admin.campaign_report_page(site_key, campaign_id))
    return admin.campaign_report(site_key, campaign_id)


# Any channel (web checkout, a store's till, a call centre): validate, then redeem exactly once.


CHANNELS = tuple(Channel)
# A refusal at the till: the rule that refused, as a problem body with this status.
REFUSAL_STATUS = {Outcome.EXPIRED: 410, Outcome.ORDER_VALUE_NEEDED: 400, Outcome.CUSTOMER_ID_NEEDED: 400}


def _till_code(field: str) -> str:
    return f"bad_{field}"


def parse_till_request(body: dict):
    return parse_redemption(body)[0]


def parse_redemption(body: dict):
    """A till's redemption (`contracts.Redeem`) and the ticket sent with it: the order value counts in minor units of the
    currency sent with it (without a known currency it counts for nothing); the customer id is
    hashed by the service."""
    from chalicelib.core.contracts import validate
    from chalicelib.domain.coupons import TillRequest
    from chalicelib.domain.money import MoneyError, is_currency, to_minor
    from chalicelib.offers.contracts import Redeem

    redeem = validate(Redeem, body, _till_code)
    currency, minor = redeem.currency, None
    if redeem.order_value is not None and is_currency(currency):
        currency = currency.upper()
        try:
            minor = to_minor(redeem.order_value, currency)
        except MoneyError as error:
            raise Invalid("bad_order_value", f"order_value: {error}") from error
    return TillRequest(
        redeem.order_ref,
        Channel(redeem.channel),
        minor,
        currency,
        redeem.store_id,
        redeem.customer_id,
        redeem.first_order,
    ), redeem.ticket


def code_body(code, now: datetime | None = None) -> dict:
    """A code as a till sees it, with the ticket its next step sends back (it saves a read)."""
    from chalicelib.offers.tickets import seal

    now = now or datetime.now(UTC)
    redeemed = code.redeemed
    status = "redeemed" if redeemed else ("expired" if code.expires_at <= now else "valid")
    body = {
        "code": code.code,
        "status": status,
        "valid": status == "valid",
        "kind": str(code.terms.kind),
        "value": _value(code.terms),
        "currency": code.terms.currency,
        **_max_discount(code.terms),
        "campaign_id": code.campaign_id,
        "site_key": code.site_key,
        "expires_at": iso(code.expires_at),
        "redeemed_at": iso(redeemed.at) if redeemed else None,
        "order_ref": redeemed.order_ref if redeemed else None,
        "channel": str(redeemed.channel) if redeemed else None,
        "store_id": redeemed.store_id if redeemed else None,
        "rollbacks": len(code.rollbacks),
    }
    if redeemed and code.terms.currency:
        body["discount"] = to_number(redeemed.discount, code.terms.currency)
    body["ticket"] = seal(code)
    return body


def till_answer(result, now: datetime | None = None) -> tuple[int, dict]:
    """A success: 200 and the code as it now is. A refusal: the documented problem body (`error`,
    `message`) with the machine-readable `outcome`; 409, 410 for an expired code, 400 when the
    request lacks what the rule needs."""
    if result.refused:
        status = REFUSAL_STATUS.get(result.outcome, 409)
        return status, {"error": str(result.outcome), "message": result.message, "outcome": str(result.outcome)}
    body = {**code_body(result.code, now), "outcome": str(result.outcome)}
    if result.capped_by:
        body["capped_by"] = result.capped_by
    return 200, body


def typed_code(in_path: str) -> str:
    """The code as the till typed it: API Gateway's REST API (and chalice local) hand a path
    parameter over still percent-encoded, so `ABCDE%20FGHJK` is the code typed with a space."""
    return unquote(in_path)


@bp.route("/v1/codes/{code}", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def validate_code(request, code):
    from chalicelib.offers import service

    return code_body(service.describe_code(typed_code(code)))


@bp.route("/v1/codes/{code}/redemptions", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def redeem_code(request, code):
    from chalicelib.offers import service

    till_request, ticket = parse_redemption(json_body(request))
    result = service.redeem_code(typed_code(code), till_request, ticket=ticket)
    count("Redemptions", outcome=str(result.outcome))
    return till_answer(result)


@bp.route("/v1/codes/{code}/rollbacks", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def roll_back_code(request, code):
    """The order was cancelled or refunded: the redemption is undone, once, within the window."""
    from chalicelib.core.contracts import validate
    from chalicelib.offers import service
    from chalicelib.offers.contracts import Rollback

    rollback = validate(Rollback, json_body(request), _till_code)
    return till_answer(service.roll_back_code(typed_code(code), rollback.order_ref, ticket=rollback.ticket))


# Sites and campaigns read and changed (issue 17.7): a PATCH is checked as a create is.


@bp.route("/v1/sites", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def all_sites(request):
    from chalicelib.offers import admin

    query = request.query_params or {}
    return admin.all_sites(query.get("after"), query.get("limit"))


@bp.route("/v1/sites/{site_key}", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def get_site(request, site_key):
    from chalicelib.offers import admin

    return admin.get_site(site_key)


@bp.route("/v1/sites/{site_key}", methods=["PATCH"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def update_site(request, site_key):
    from chalicelib.offers import admin

    return admin.update_site(site_key, json_body(request))


@bp.route("/v1/sites/{site_key}/campaigns", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def all_campaigns(request, site_key):
    from chalicelib.offers import admin

    query = request.query_params or {}
    return admin.all_campaigns(site_key, query.get("after"), query.get("limit"))


@bp.route("/v1/sites/{site_key}/campaigns/{campaign_id}", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def get_campaign(request, site_key, campaign_id):
    from chalicelib.offers import admin

    return admin.get_campaign(site_key, campaign_id)


@bp.route(
    "/v1/sites/{site_key}/campaigns/{campaign_id}", methods=["PATCH"], content_types=ANY_CONTENT, authorizer=ADMIN
)
@endpoint(admin=True)
def update_campaign(request, site_key, campaign_id):
    from chalicelib.offers import admin

    return admin.update_campaign(site_key, campaign_id, json_body(request))
