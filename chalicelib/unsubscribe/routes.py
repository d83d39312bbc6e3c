"""Unsubscribe: the recipients' links and pages, the senders' and operators' API, and the
queue of unsubscribes that could not be stored at once."""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from chalicelib.core.errors import Invalid, TooLarge, UnsupportedMediaType
from chalicelib.core.http import ADMIN, ANY_CONTENT, endpoint, json_body, media_type, raw_body, wants_html
from chalicelib.core.observability import count

bp = Blueprint(__name__)

# A one-click POST may come with a form body, an empty body, no Content-Type at all, text/plain
# or JSON: every media type reaches the handler, which accepts `List-Unsubscribe=One-Click` or
# nothing, and our own page's `choice=...`.
ONE_CLICK_TYPES = ANY_CONTENT
MAX_CSV_BYTES = 2 * 1024 * 1024


def _flow(name: str):
    """A handler of `flow`, imported on first use: storage stays off the cold start of routes
    that do not need it (the offers' and the operators')."""

    def handler(request, **params):
        from chalicelib.unsubscribe import flow

        return getattr(flow, name)(request, **params)

    handler.__name__ = handler.__qualname__ = name
    return handler


def _answers_people(request) -> str:
    from chalicelib.unsubscribe import flow

    return flow.answers_people(request)


# Recipients: the link in List-Unsubscribe and in the message body. GET never changes anything.
bp.route("/u/{token}", methods=["GET"], content_types=ANY_CONTENT)(endpoint("page")(_flow("landing_page")))
bp.route("/u/{token}", methods=["POST"], content_types=ONE_CLICK_TYPES)(
    endpoint(_answers_people)(_flow("post_unsubscribe"))
)
bp.route("/u/{token}/survey", methods=["GET"], content_types=ANY_CONTENT)(endpoint("page")(_flow("survey_page")))
bp.route("/u/{token}/survey", methods=["POST"], content_types=ANY_CONTENT)(endpoint("page")(_flow("submit_survey")))
bp.route("/u/{token}/done", methods=["GET"], content_types=ANY_CONTENT)(endpoint("page")(_flow("done_page")))
bp.route("/u/{token}/undo", methods=["POST"], content_types=ANY_CONTENT)(endpoint("page")(_flow("submit_undo")))


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

    body = json_body(request)
    channel = body.get("channel", "email")
    answers = senders.check_recipients(body.get("list_id"), channel, body.get("recipients"))
    return {"list_id": body["list_id"], "channel": channel, "recipients": answers}


# Operators: lists, subscribers, the consent trail, privacy requests, the exit-survey report.


@bp.route("/v1/lists", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def create_list(request):
    from chalicelib.unsubscribe import admin

    body = json_body(request)
    created = admin.create_list(body.get("list_id"), body.get("name"), body.get("description"), body.get("branding"))
    return 201, created


@bp.route("/v1/lists/{list_id}/subscribers", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def add_subscriber(request, list_id):
    from chalicelib.unsubscribe import admin

    body = json_body(request)
    result = admin.add_subscriber(list_id, body.get("email"), body.get("resubscribe") is True)
    return (201 if result["result"] in ("subscribed", "resubscribed") else 200), result


@bp.route("/v1/lists/{list_id}/imports", methods=["POST"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def import_subscribers(request, list_id):
    from chalicelib.unsubscribe import admin

    if media_type(request) not in ("text/csv", "text/plain"):
        raise UnsupportedMediaType("unsupported_media_type", "send text/csv")
    body = raw_body(request)
    if len(body) > MAX_CSV_BYTES:
        raise TooLarge("too_large", f"send at most {MAX_CSV_BYTES} bytes of CSV")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid("bad_csv", "the CSV must be UTF-8") from error
    return admin.import_csv(list_id, text)


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
    from chalicelib.unsubscribe import admin

    return admin.find_subscriber(json_body(request).get("email"))


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
        deferred.apply(json.loads(record.body))


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
