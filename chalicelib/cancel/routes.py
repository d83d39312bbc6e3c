"""Cancellation flow: businesses' servers open sessions and configure their flow (`/v1/…`,
admin), people use the hosted pages (`/cancel/{token}`, `/cancel/new-link/{token}`), directly or
framed on the business's page (`/cancel/embed/snippet.js`); operators read the report (JSON, or
a page by signed link). GET never changes anything."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from chalice import Blueprint

from chalicelib.core.errors import Conflict
from chalicelib.core.forms import FORM_CONTENT_TYPES, parse_form
from chalicelib.core.http import ADMIN, ANY_CONTENT, endpoint, header, html_response, json_body, raw_body
from chalicelib.core.settings import event_sources

bp = Blueprint(__name__)

# A click carries the page's ticket (up to 6000 characters) beside a comment of up to 5000
# characters, which in Thai is 3 bytes each and percent-encoded 9.
CLICK_FORM_BYTES = 64 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


@bp.route("/v1/cancel-sessions", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def open_cancel_session(request):
    from chalicelib.cancel import service
    from chalicelib.cancel.contracts import parse_session_request

    now = _now()
    opened = service.open_session(parse_session_request(json_body(request), now.date()), now)
    return 201, {"session_id": opened.session_id, "url": opened.url, "expires_at": opened.expires_at.isoformat()}


@bp.route("/v1/cancel-flows/{business}", methods=["PUT"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def put_cancel_flow(request, business):
    from chalicelib.cancel import service
    from chalicelib.core.errors import Invalid
    from chalicelib.core.ids import is_id

    if not is_id(business):
        raise Invalid("invalid_business", "the business id is letters, digits, - and _")
    from chalicelib.cancel.contracts import parse_flow

    return service.save_flow(business, parse_flow(json_body(request))).to_raw()


@bp.route("/v1/cancel-flows/{business}", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def get_cancel_flow(request, business):
    from chalicelib.cancel import service

    return service.flow_of(business).to_raw()


@bp.route("/v1/cancel-flows/{business}/webhook", methods=["PUT"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def put_cancel_webhook(request, business):
    from chalicelib.cancel import service
    from chalicelib.core.errors import Invalid
    from chalicelib.core.ids import is_id

    if not is_id(business):
        raise Invalid("invalid_business", "the business id is letters, digits, - and _")
    from chalicelib.cancel.contracts import webhook_url

    return service.set_webhook(business, webhook_url(json_body(request)))


@bp.route("/v1/cancel-flows/{business}/report", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@bp.route("/reports/cancel-flows/{business}", methods=["GET"], content_types=ANY_CONTENT)  # signed link (core.http)
@endpoint(admin=True)
def cancel_report(request, business):
    """JSON, or a page with server-rendered charts for a browser (`Accept: text/html`,
    `?format=html`, or a signed link from `report-link cancel BUSINESS`). `?weeks=` 1-52."""
    from chalicelib.cancel import report
    from chalicelib.core.errors import Invalid
    from chalicelib.core.http import wants_html

    weeks = (request.query_params or {}).get("weeks") or str(report.DEFAULT_WEEKS)
    if not weeks.isdigit() or not 1 <= int(weeks) <= report.MAX_WEEKS:
        raise Invalid("invalid_weeks", f"weeks is 1 to {report.MAX_WEEKS}")
    today = _now().date()
    if wants_html(request):
        from chalicelib.cancel.report_page import report_page

        return html_response(report_page(business, today, int(weeks)))
    return report.save_rates(business, today, int(weeks))


def _customer(business: str, customer_id: str) -> None:
    from chalicelib.core.errors import Invalid
    from chalicelib.core.ids import is_id

    if not (is_id(business) and is_id(customer_id)):
        raise Invalid("invalid_id", "business and customer ids are letters, digits, - and _")


@bp.route(
    "/v1/cancel-customers/{business}/{customer_id}/records",
    methods=["GET"],
    content_types=ANY_CONTENT,
    authorizer=ADMIN,
)
@endpoint(admin=True)
def export_cancel_records(request, business, customer_id):
    from chalicelib.cancel import service

    _customer(business, customer_id)
    return {
        "business": business,
        "customer_id": customer_id,
        "sessions": service.export_customer(business, customer_id),
    }


@bp.route(
    "/v1/cancel-customers/{business}/{customer_id}/records",
    methods=["DELETE"],
    content_types=ANY_CONTENT,
    authorizer=ADMIN,
)
@endpoint(admin=True)
def erase_cancel_records(request, business, customer_id):
    from chalicelib.cancel import service

    _customer(business, customer_id)
    return service.erase_customer(business, customer_id)


@bp.on_sqs_message(queue=event_sources().cancel_webhook_queue, batch_size=1)
def cancel_webhooks(event):
    """One event per message; a failed attempt is queued again by `deliver` with its backoff, so
    only an unexpected failure raises (SQS retries it, then keeps it in the DLQ)."""
    import json

    from chalicelib.cancel import webhooks

    for record in event:
        webhooks.deliver(json.loads(record.body))


def _refused(error, token: str):
    from chalicelib.cancel import pages

    return _page(pages.refused_link_page(error.session, token), error.session, 410 if error.session else 400)


def _page(html: str, session, status: int = 200):
    """A hosted page, framable only by the session's flow's embed origins."""
    from chalicelib.cancel import pages

    return html_response(html, status, pages.frame_headers(session))


EMBED_SNIPPET = Path(__file__).parent / "static" / "embed.js"


@bp.route("/cancel/embed/snippet.js", methods=["GET"], content_types=ANY_CONTENT)
@endpoint()
def cancel_embed_snippet(request):
    """The script a business puts on its own page to show the hosted flow in a frame there."""
    from chalice import Response

    return Response(
        body=EMBED_SNIPPET.read_text(),
        status_code=200,
        headers={"Content-Type": "application/javascript; charset=utf-8", "Cache-Control": "public, max-age=300"},
    )


@bp.route("/cancel/{token}", methods=["GET"], content_types=ANY_CONTENT)
@endpoint("page")
def cancel_page(request, token):
    from chalicelib.cancel import pages, service

    now = _now()
    try:
        session = service.view(token, now)
        return _page(pages.session_page(session, now), session)
    except service.LinkRefused as refused:
        return _refused(refused, token)


@bp.route("/cancel/{token}", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@endpoint("page")
def cancel_click(request, token):
    from chalicelib.cancel import pages, service

    now = _now()
    form = parse_form(header(request, "content-type"), raw_body(request), limit=CLICK_FORM_BYTES)
    try:
        session = service.act(token, form.get("action", ""), form, now)
        return _page(pages.session_page(session, now), session)
    except service.LinkRefused as refused:
        return _refused(refused, token)
    except Conflict as conflict:
        if conflict.code not in ("offer_unavailable", "no_such_offer"):
            raise
        session = service.view(token, now)
        return _page(pages.session_page(session, now, notice_key="offer_unavailable"), session, 409)


@bp.route("/cancel/undo/{token}", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("page")
def cancel_undo(request, token):
    from chalicelib.cancel import pages, service

    now = _now()
    content_type = header(request, "content-type") or ""
    form = parse_form(content_type, raw_body(request), limit=CLICK_FORM_BYTES) if "form" in content_type else {}
    try:
        session = service.undo(token, now, form.get("ticket"))
        return _page(pages.session_page(session, now), session)
    except service.LinkRefused as refused:
        return _refused(refused, token)
    except Conflict as conflict:
        if conflict.code != "undo_window_passed":
            raise
        return html_response(pages.refused_link_page(None), 409)


@bp.route("/cancel/new-link/{token}", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("page")
def cancel_new_link(request, token):
    """ "Email me a new link", from a refused or finished page: records the request and asks the
    business (a webhook) to mail its customer a new link; rate-limited per session."""
    from chalicelib.cancel import pages, service

    result = service.request_new_link(token, _now())
    status = 202 if result.requested else (429 if result.session else 404)
    return _page(pages.new_link_page(result), result.session, status)
