"""Unsubscribe: the recipients' links and pages, the senders' and operators' API, and the
queue of unsubscribes that could not be stored at once."""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from chalicelib.core.errors import Invalid, TooLarge, UnsupportedMediaType
from chalicelib.core.forms import FORM_CONTENT_TYPES, FORM_URLENCODED, MAX_FORM_BYTES, parse_form
from chalicelib.core.http import (
    ADMIN,
    ANY_CONTENT,
    client_ip,
    endpoint,
    error_page,
    header,
    html_response,
    json_body,
    json_response,
    language_of,
    media_type,
    raw_body,
    redirect,
    wants_html,
)
from chalicelib.core.observability import count
from chalicelib.unsubscribe.headers import ONE_CLICK
from chalicelib.unsubscribe.tokens import verify_link

bp = Blueprint(__name__)

# A one-click POST may come with a form body, an empty body, no Content-Type at all, text/plain
# or JSON: every media type reaches the handler, which accepts `List-Unsubscribe=One-Click` or
# nothing, and our own page's `choice=...`.
ONE_CLICK_TYPES = ANY_CONTENT
MAX_CSV_BYTES = 2 * 1024 * 1024


def _one_click_form(request) -> dict[str, str]:
    """Be liberal in what this route accepts: mailbox providers send the RFC 8058 body as a
    form, but some clients send it with no Content-Type, as text/plain, or as JSON."""
    if media_type(request) in FORM_CONTENT_TYPES:
        return parse_form(header(request, "content-type"), raw_body(request))
    body = raw_body(request)
    if len(body) > MAX_FORM_BYTES:
        raise TooLarge("bad_form", "the form is too large")
    text = body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise Invalid("bad_form", f"the body must be {ONE_CLICK} or empty") from error
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise Invalid("bad_form", f"the body must be {ONE_CLICK} or empty")
        return value
    return parse_form(FORM_URLENCODED, text.encode())


def _form(request, limit: int | None = None) -> dict[str, str]:
    if limit is None:
        return parse_form(header(request, "content-type"), raw_body(request))
    return parse_form(header(request, "content-type"), raw_body(request), limit=limit)


def _answers_people(request) -> str:
    """The unsubscribe POST serves mailbox providers (JSON) and our own page's form (pages)."""
    try:
        return "page" if "choice" in _one_click_form(request) else "json"
    except Invalid:
        return "json"


def _caller(request):
    from chalicelib.unsubscribe.flow import Caller

    return Caller(client_ip(request), header(request, "user-agent"))


def _url(raw_token: str, suffix: str = "", event: str | None = None, **extra: str) -> str:
    from chalicelib.core.settings import get_settings
    from chalicelib.unsubscribe.headers import page_url

    return page_url(get_settings(), raw_token, suffix, event, **extra)


def _next_page(request, raw_token: str, result):
    """A page choice's answer: where to go next, or a page saying what happened."""
    from chalicelib.unsubscribe import flow

    if isinstance(result, flow.Deferred):
        return error_page(request, 202, "done.deferred", status_class="notice")
    if isinstance(result, flow.UndoUnavailable):
        return error_page(request, 409, "done.undo_unavailable", result.mailing_list)
    return redirect(_url(raw_token, result.page, result.event, **({"thanks": "1"} if result.thanks else {})))


# Recipients: the link in List-Unsubscribe and in the message body. GET never changes anything.
# Storage is imported on first use: it stays off the cold start of the routes that do not need it.


@bp.route("/u/{token}", methods=["GET"], content_types=ANY_CONTENT)
@endpoint("page")
def landing_page(request, token):
    from chalicelib.unsubscribe import flow, pages

    try:
        landing = flow.landing(token)
    except Invalid as error:
        if error.code != "invalid_token":
            raise
        # a cut or changed link: the form on the error page, and the list's mailto if it still names one
        return error_page(request, 400, "error.invalid_token", mailto=flow.mailto_of_broken_link(token))
    page = pages.choice_page(
        language_of(request), landing, _url(token), _url(token, "/resubscribe"), _url(token, "/resume")
    )
    return html_response(page)


@bp.route("/u/{token}/resubscribe", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("page")
def submit_resubscribe(request, token):
    from chalicelib.unsubscribe import flow

    return _next_page(request, token, flow.resubscribe(token, _caller(request)))


@bp.route("/u/{token}/resume", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("page")
def submit_resume(request, token):
    from chalicelib.unsubscribe import flow

    return _next_page(request, token, flow.resume(token, _caller(request)))


# A broken or cut link's way out (its error page carries the form): fresh links by email, the
# same answer for any address. GET shows the form; only the POST may send a message.


@bp.route("/unsubscribe/request", methods=["GET"], content_types=ANY_CONTENT)
@endpoint("page")
def link_request_form(request):
    from chalicelib.core.http import link_request_url
    from chalicelib.unsubscribe import pages

    return html_response(pages.link_request_page(language_of(request), link_request_url()))


@bp.route("/unsubscribe/request", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("page")
def submit_link_request(request):
    from chalicelib.core.http import link_request_url
    from chalicelib.unsubscribe import link_request, pages

    link_request.request_links(_form(request).get("email"), client_ip(request), language_of(request))
    return html_response(pages.link_request_page(language_of(request), link_request_url(), sent=True))


@bp.route("/u/{token}", methods=["POST"], content_types=ONE_CLICK_TYPES)
@endpoint(_answers_people)
def post_unsubscribe(request, token):
    """One route, two callers: a mailbox provider's one-click POST (`List-Unsubscribe=One-Click`
    or an empty body; answered 200, never redirected) and our own page's form (`choice=...`)."""
    from chalicelib.unsubscribe import flow

    try:
        form = _one_click_form(request)
    except Invalid:
        count("RejectedInputs", kind="form")
        verify_link(token)  # a bad link is named before a bad body
        raise
    if "choice" in form:
        return _next_page(request, token, flow.choose(token, form["choice"], _caller(request)))
    if form and form.get("List-Unsubscribe") != "One-Click":
        verify_link(token)  # a bad link is named before a bad body
        raise Invalid("bad_form", f"the body must be {ONE_CLICK} or empty")
    answer = flow.one_click(token, _caller(request))
    return json_response({"status": answer.status}, 202 if answer.status == "accepted" else 200)


@bp.route("/u/{token}/survey", methods=["GET"], content_types=ANY_CONTENT)
@endpoint("page")
def survey_page(request, token):
    from chalicelib.unsubscribe import flow, pages

    _, event, mailing_list = flow.event_of_link(token, (request.query_params or {}).get("event") or "")
    if not pages.asks_survey(event):
        return redirect(_url(token, "/done", event.sk))
    page = pages.survey_page(
        language_of(request),
        event,
        mailing_list,
        _url(token, "/survey"),
        _url(token, "/done", event.sk),
        flow.survey_reasons(mailing_list),
    )
    return html_response(page)


@bp.route("/u/{token}/survey", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("page")
def submit_survey(request, token):
    from chalicelib.unsubscribe import flow

    verify_link(token)  # a bad link is named before a bad body
    form = _form(request, limit=flow.SURVEY_BODY_LIMIT)
    result = flow.answer_survey(token, form.get("event", ""), form.get("reason"), form.get("comment"))
    return _next_page(request, token, result)


@bp.route("/u/{token}/done", methods=["GET"], content_types=ANY_CONTENT)
@endpoint("page")
def done_page(request, token):
    from chalicelib.unsubscribe import flow, pages

    query = request.query_params or {}
    _, event, mailing_list = flow.event_of_link(token, query.get("event") or "")
    page = pages.done_page(language_of(request), event, mailing_list, query.get("thanks") == "1", _url(token, "/undo"))
    return html_response(page)


@bp.route("/u/{token}/undo", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("page")
def submit_undo(request, token):
    from chalicelib.unsubscribe import flow

    verify_link(token)  # a bad link is named before a bad body
    return _next_page(request, token, flow.undo(token, _form(request).get("event", ""), _caller(request)))


# Senders: the headers for a message, and who may be sent to (X-Api-Key locally; IAM in AWS).


@bp.route("/v1/unsubscribe-headers", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def unsubscribe_headers(request):
    from chalicelib.unsubscribe import senders

    body = json_body(request)
    return senders.headers_for(body, body.get("list_id"), body.get("campaign_id")).as_dict()


@bp.route("/v1/send-check", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def send_check(request):
    from chalicelib.unsubscribe import senders

    asked = senders.read_send_check(json_body(request))
    return {"list_id": asked.list_id, "channel": asked.channel, "recipients": senders.check(asked)}


# Operators: lists, subscribers, the consent trail, privacy requests, the exit-survey report.


@bp.route("/v1/lists", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def create_list(request):
    from chalicelib.unsubscribe import admin

    body = json_body(request)
    created = admin.create_list(body)
    return 201, created


@bp.route("/v1/lists/{list_id}/subscribers", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def add_subscriber(request, list_id):
    from chalicelib.core.contracts import validate
    from chalicelib.unsubscribe import admin
    from chalicelib.unsubscribe.contracts import NewSubscriber

    new = validate(
        NewSubscriber, json_body(request), lambda field: "bad_field" if field == "resubscribe" else "bad_email"
    )
    result = admin.add_subscriber(list_id, new.email, new.resubscribe)
    return (201 if result["result"] in ("subscribed", "resubscribed") else 200), result


@bp.route("/v1/lists/{list_id}/imports", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def import_subscribers(request, list_id):
    if media_type(request) not in ("text/csv", "text/plain"):
        raise UnsupportedMediaType("unsupported_media_type", "send text/csv")
    body = raw_body(request)
    if len(body) > MAX_CSV_BYTES:
        raise TooLarge("too_large", f"send at most {MAX_CSV_BYTES} bytes of CSV")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid("bad_csv", "the CSV must be UTF-8") from error
    return _import_answer(list_id, text, request)


@bp.route("/v1/subscribers/{subscriber_id}/consent", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def export_consent(request, subscriber_id):
    from chalicelib.unsubscribe import admin

    lines = admin.export_consent(subscriber_id)
    return Response(
        lines, status_code=200, headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-store"}
    )


@bp.route("/v1/reports/unsubscribe-reasons", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def unsubscribe_reasons(request):
    from chalicelib.unsubscribe import admin

    query = request.query_params or {}
    return admin.unsubscribe_reasons(query.get("list_id"), query.get("from"), query.get("to"))


@bp.route("/v1/lists/{list_id}/frequencies", methods=["PUT"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def list_frequencies(request, list_id):
    from chalicelib.unsubscribe import admin

    return admin.set_frequencies(list_id, json_body(request))


@bp.route("/v1/reports/leaving", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@bp.route("/reports/leaving", methods=["GET"], content_types=ANY_CONTENT)  # a signed link's page (core.http)
@endpoint(admin=True)
def leaving_report(request):
    """Why people leave, by list and month: JSON, or a page with SVG charts for a browser."""
    from chalicelib.core.http import html_response
    from chalicelib.unsubscribe import admin

    query = request.query_params or {}
    args = (query.get("list_id"), query.get("from"), query.get("to"))
    if wants_html(request):
        return html_response(admin.leaving_report_page(*args))
    return admin.leaving_report(*args)


# Privacy: find by address (in the body, never the URL), export everything, erase.


@bp.route("/v1/subscribers/find", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def find_subscriber(request):
    from chalicelib.core.contracts import validate
    from chalicelib.unsubscribe import admin
    from chalicelib.unsubscribe.contracts import SubscriberLookup

    return admin.find_subscriber(validate(SubscriberLookup, json_body(request), "bad_email").email)


@bp.route("/v1/subscribers/{subscriber_id}", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def export_subscriber(request, subscriber_id):
    from chalicelib.unsubscribe import admin

    return admin.export_subscriber(subscriber_id)


@bp.route("/v1/subscribers/{subscriber_id}", methods=["DELETE"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def erase_subscriber(request, subscriber_id):
    from chalicelib.unsubscribe import admin

    result = admin.erase_subscriber(subscriber_id)
    count("Erasures")
    return result


def _queue_names():
    from chalicelib.core.settings import event_sources

    return event_sources()


@bp.on_sqs_message(queue=_queue_names().unsubscribe_queue, batch_size=1)
def deferred_unsubscribe(event):
    """Failures raise: SQS retries the message and, after its limit, keeps it in the DLQ."""
    from chalicelib.unsubscribe import deferred

    for record in event:
        message = json.loads(record.body)
        if message.get("kind") == "import":  # an import going on in the background (issue 17.6)
            from chalicelib.unsubscribe import imports

            imports.work(message, event.context.get_remaining_time_in_millis)
        else:
            deferred.apply(message)


# Other doors an opt-out comes through: email sent to the List-Unsubscribe mailto (SES receiving,
# a receipt rule's SNS action) and SMS keywords (End User Messaging SMS two-way). Unreadable,
# untrusted or unknown messages are counted and dropped; only storage failures raise (retried,
# then kept in the function's failure queue).


@bp.on_sns_message(topic=_queue_names().mail_received_topic)
def mailto_unsubscribe(event):
    from chalicelib.unsubscribe import mailto

    mailto.handle(event.message)


@bp.on_sns_message(topic=_queue_names().sms_inbound_topic)
def sms_keyword(event):
    from chalicelib.unsubscribe import sms

    published = ((event.to_dict().get("Records") or [{}])[0].get("Sns") or {}).get("Timestamp")
    sms.handle(event.message, published)


# Senders' preflight (issue 17): the message itself is the body (message/rfc822), the signer's
# public key optionally in `DKIM-Key` (its DNS TXT value; else looked up in DNS). Any media type
# reaches the handler so that a wrong one is answered as a JSON problem, not Chalice's 415.


@bp.route("/v1/preflight", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def preflight_message(request):
    from chalicelib.core.http import header
    from chalicelib.unsubscribe import preflight

    if media_type(request) != "message/rfc822":
        raise UnsupportedMediaType("unsupported_media_type", "send the message as message/rfc822")
    return preflight.check_message(raw_body(request), header(request, "dkim-key")).as_dict()


# Imports of any size (issue 17.6): one that cannot finish within the request (API Gateway
# stops at 29 s), or whose sender asks `Prefer: respond-async`, goes on from the unsubscribe
# queue: 202 with the Location of its status.


def _import_answer(list_id, text: str, request):
    from chalicelib.core.settings import get_settings
    from chalicelib.unsubscribe import imports

    query = request.query_params or {}
    background = "respond-async" in (header(request, "prefer") or "").lower()
    done, report = imports.import_over_http(list_id, text, query.get("column"), query.get("import_id"), background)
    if done:
        return report
    location = f"{get_settings().public_base_url}/v1/lists/{report['list_id']}/imports/{report['import_id']}"
    return json_response(report, 202, {"Location": location})


@bp.route("/v1/lists/{list_id}/imports/{import_id}", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def import_status(request, list_id, import_id):
    """An import's status, counts and refused rows, a page at a time (`after` a line, `limit`)."""
    from chalicelib.unsubscribe import imports

    query = request.query_params or {}
    return imports.report(list_id, import_id, *imports.page_of(query.get("after"), query.get("limit")))


# Lists read and changed (issue 17.7): a PATCH is checked as a new list is.


@bp.route("/v1/lists", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def all_lists(request):
    from chalicelib.unsubscribe import admin

    query = request.query_params or {}
    return admin.all_lists(query.get("after"), query.get("limit"))


@bp.route("/v1/lists/{list_id}", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def get_list(request, list_id):
    from chalicelib.unsubscribe import admin

    return admin.get_list(list_id)


@bp.route("/v1/lists/{list_id}", methods=["PATCH"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def update_list(request, list_id):
    from chalicelib.unsubscribe import admin

    return admin.update_list(list_id, json_body(request))
