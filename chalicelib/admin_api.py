"""The authenticated machine API for senders and operators (`/v1/...`): thin handlers only.

The services behind them are imported on first use, keeping them off the cold start of the
recipients' one-click path.
"""

from __future__ import annotations

from functools import wraps

from chalice import Response
from pynamodb.exceptions import PynamoDBException

from chalicelib.errors import BadRequest
from chalicelib.observability import count, logger
from chalicelib.storage import lists
from chalicelib.tokens import ID_PATTERN
from chalicelib.web import is_admin, json_body, json_response, problem, raw_body

MAX_CSV_BYTES = 2 * 1024 * 1024


def answering(handler):
    """Refusals the caller can fix become 4xx answers, storage trouble a 503."""

    @wraps(handler)
    def wrapper(request, *args):
        try:
            return handler(request, *args)
        except BadRequest as error:
            count("RejectedInputs", kind=error.code)
            return problem(error.status, error.code, str(error))
        except PynamoDBException:
            logger.exception("storage unavailable")
            return problem(503, "unavailable", "try again shortly", {"Retry-After": "5"})

    return wrapper


def authenticated(handler):
    answered = answering(handler)

    @wraps(handler)
    def wrapper(request, *args):
        if not is_admin(request):
            return problem(401, "unauthorized", "send a valid X-Api-Key")
        return answered(request, *args)

    return wrapper


@authenticated
def create_list(request):
    body = json_body(request)
    list_id, name = body.get("list_id"), body.get("name")
    if not isinstance(list_id, str) or not ID_PATTERN.match(list_id):
        raise BadRequest("bad_list", "list_id must be 1-64 letters, digits, '-' or '_'")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 200:
        raise BadRequest("bad_name", "name must be 1-200 characters")
    branding = body.get("branding") or {}
    if not isinstance(branding, dict) or set(branding) - {"sender_name", "accent_color", "logo_url"}:
        raise BadRequest("bad_branding", "branding takes sender_name, accent_color and logo_url")
    if not all(isinstance(v, str) and len(v) <= 500 for v in branding.values()):
        raise BadRequest("bad_branding", "branding values must be short strings")
    try:
        created = lists.create_list(list_id, name.strip(), body.get("description"), branding)
    except lists.ListExists as error:
        raise BadRequest("list_exists", "a list with this id exists", 409) from error
    return json_response({"list_id": created.list_id, "name": created.name}, 201)


@authenticated
def add_subscriber(request, list_id: str):
    from chalicelib import subscriber_admin

    body = json_body(request)
    result = subscriber_admin.add_subscriber(list_id, body.get("email"), body.get("resubscribe") is True)
    return json_response(result, 201 if result["result"] in ("subscribed", "resubscribed") else 200)


@authenticated
def import_subscribers(request, list_id: str):
    body = raw_body(request)
    if len(body) > MAX_CSV_BYTES:
        raise BadRequest("too_large", f"send at most {MAX_CSV_BYTES} bytes of CSV", 413)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadRequest("bad_csv", "the CSV must be UTF-8") from error
    from chalicelib import subscriber_admin

    return json_response(subscriber_admin.import_csv(list_id, text))


@authenticated
def unsubscribe_headers(request):
    from chalicelib import senders

    body = json_body(request)
    built = senders.headers_for(body, body.get("list_id"), body.get("campaign_id"))
    return json_response(built.as_dict())


@authenticated
def send_check(request):
    from chalicelib import senders

    body = json_body(request)
    answers = senders.check_recipients(body.get("list_id"), body.get("channel", "email"), body.get("recipients"))
    return json_response({"list_id": body["list_id"], "channel": body.get("channel", "email"), "recipients": answers})


@authenticated
def export_consent(request, subscriber_id: str):
    from chalicelib import subscriber_admin

    lines = subscriber_admin.export_consent(subscriber_id)
    return Response(
        body=lines, status_code=200, headers={"Content-Type": "application/x-ndjson", "Cache-Control": "no-store"}
    )


@authenticated
def create_site(request):
    from chalicelib import site_admin

    body = json_body(request)
    return json_response(
        site_admin.create_site(body.get("site_key"), body.get("name"), body.get("allowed_origins")), 201
    )


@authenticated
def put_campaign(request, site_key: str, campaign_id: str):
    from chalicelib import site_admin

    return json_response(site_admin.put_campaign(site_key, campaign_id, json_body(request)))


@authenticated
def set_campaign_enabled(request, site_key: str, campaign_id: str):
    from chalicelib import site_admin

    return json_response(site_admin.set_enabled(site_key, campaign_id, json_body(request).get("enabled")))


@authenticated
def campaign_report(request, site_key: str, campaign_id: str):
    from chalicelib import site_admin

    return json_response(site_admin.campaign_report(site_key, campaign_id))


@authenticated
def validate_code(request, code: str):
    from chalicelib import offer_service

    return json_response(offer_service.describe_code(code))


@authenticated
def redeem_code(request, code: str):
    from chalicelib import offer_service

    body = json_body(request)
    status, answer = offer_service.redeem_code(code, body.get("order_ref"), body.get("channel"))
    count("Redemptions", outcome=answer["outcome"])
    return json_response(answer, status)


@answering
def engagement_webhook(request):
    """Signed by HMAC (not the API key): other senders post engagement facts here. Every fact
    is idempotent, so a 503 can simply be resent."""
    from chalicelib import engagement
    from chalicelib.settings import get_settings
    from chalicelib.web import header

    secret = get_settings().webhook_secret or ""
    if len(secret) < 16:
        raise BadRequest("webhook_disabled", "no webhook secret is configured", 503)
    body = raw_body(request)
    engagement.verify_webhook(
        body, header(request, "x-offboard-timestamp"), header(request, "x-offboard-signature"), secret.encode()
    )
    data = json_body(request, limit=256 * 1024)
    events = data.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= engagement.MAX_WEBHOOK_EVENTS:
        raise BadRequest("bad_batch", f"events must be a list of 1 to {engagement.MAX_WEBHOOK_EVENTS}")
    outcomes = engagement.ingest(events, parse=engagement.parse_webhook_event)
    return json_response({"outcomes": dict(outcomes)}, 202)


@authenticated
def put_sunset_policy(request, list_id: str):
    from chalicelib.storage import lists
    from chalicelib.sunset_policy import parse_policy

    policy = parse_policy(json_body(request))
    if lists.get_list(list_id) is None:
        raise BadRequest("unknown_list", "this list does not exist", 404)
    lists.set_policy(list_id, policy)
    return json_response({"list_id": list_id, "sunset": policy.as_dict()})


@authenticated
def sunset_runs(request):
    from chalicelib import sunset_job
    from chalicelib.storage import sunset_runs as runs

    return json_response({"runs": [sunset_job.report(run) for run in runs.recent_runs()]})


@authenticated
def sunset_run(request, run_id: str):
    from chalicelib import sunset_job
    from chalicelib.storage import sunset_runs as runs

    run = runs.get_run(run_id) if len(run_id) < 64 else None
    if run is None:
        raise BadRequest("unknown_run", "no such run", 404)
    return json_response(sunset_job.report(run))


@authenticated
def find_subscriber(request):
    from chalicelib import subscriber_admin

    return json_response(subscriber_admin.find_subscriber(json_body(request).get("email")))


@authenticated
def export_subscriber(request, subscriber_id: str):
    from chalicelib import subscriber_admin

    return json_response(subscriber_admin.export_subscriber(subscriber_id))


@authenticated
def erase_subscriber(request, subscriber_id: str):
    from chalicelib import subscriber_admin

    result = subscriber_admin.erase_subscriber(subscriber_id)
    count("Erasures")
    return json_response(result)


@authenticated
def unsubscribe_reasons(request):
    from chalicelib import subscriber_admin

    query = request.query_params or {}
    return json_response(subscriber_admin.unsubscribe_reasons(query.get("list_id"), query.get("from"), query.get("to")))
