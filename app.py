"""offboard: every URL the service answers, and what answers it."""

import os
import uuid
import warnings

from chalice import Chalice, Cron, IAMAuthorizer

from chalicelib import admin_api, event_handlers, offers_api, unsubscribe_flow
from chalicelib.forms import FORM_CONTENT_TYPES
from chalicelib.observability import flush, logger, traced
from chalicelib.web import bind_request, current_request

app = Chalice(app_name="offboard")

# The operators' and senders' API: IAM (SigV4) in AWS; locally chalice admits IAM routes and the
# handlers require X-Api-Key instead.
ADMIN = IAMAuthorizer()
warnings.filterwarnings("ignore", message="IAMAuthorizer is not a supported in local mode")

# A one-click POST may come with a form body, an empty body or no Content-Type at all
# (which Chalice reads as JSON); the handler accepts only `List-Unsubscribe=One-Click` or nothing.
ONE_CLICK_TYPES = [*FORM_CONTENT_TYPES, "application/json"]


@app.middleware("http")
def observe(request, get_response):
    bind_request(request)
    logger.clear_state()
    logger.set_correlation_id((request.context or {}).get("requestId") or uuid.uuid4().hex)
    route = (request.context or {}).get("resourcePath", "unknown")
    try:
        with traced(f"{request.method} {route}", route=route):
            return get_response(request)
    finally:
        flush()


# Recipients: the link in List-Unsubscribe and in the message body.
@app.route("/u/{token}", methods=["GET"])
def unsubscribe_page(token):
    return unsubscribe_flow.landing_page(current_request(), token)


@app.route("/u/{token}", methods=["POST"], content_types=ONE_CLICK_TYPES)
def unsubscribe(token):
    return unsubscribe_flow.post_unsubscribe(current_request(), token)


@app.route("/u/{token}/survey", methods=["GET"])
def survey_page(token):
    return unsubscribe_flow.survey_page(current_request(), token)


@app.route("/u/{token}/survey", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def survey_answer(token):
    return unsubscribe_flow.submit_survey(current_request(), token)


@app.route("/u/{token}/done", methods=["GET"])
def confirmation_page(token):
    return unsubscribe_flow.done_page(current_request(), token)


@app.route("/u/{token}/undo", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def undo(token):
    return unsubscribe_flow.submit_undo(current_request(), token)


# The sunset job's re-permission email: GET shows the button, POST keeps the subscription.
@app.route("/u/{token}/keep", methods=["GET"])
def keep_page(token):
    return unsubscribe_flow.keep_page(current_request(), token)


@app.route("/u/{token}/keep", methods=["POST"], content_types=ONE_CLICK_TYPES)
def keep_subscribed(token):
    return unsubscribe_flow.submit_keep(current_request(), token)


# Shops' pages: the exit-intent snippet and what it calls.
@app.route("/offers/snippet.js", methods=["GET"])
def offer_snippet():
    return offers_api.snippet(current_request())


@app.route("/offers/decide", methods=["POST"], content_types=offers_api.BROWSER_CONTENT_TYPES)
def offer_decision():
    return offers_api.decide(current_request())


@app.route("/offers/events", methods=["POST"], content_types=offers_api.BROWSER_CONTENT_TYPES)
def offer_event():
    return offers_api.record_event(current_request())


@app.route("/offers/email", methods=["POST"], content_types=offers_api.BROWSER_CONTENT_TYPES)
def offer_email():
    return offers_api.email_code(current_request())


@app.route("/offers/conversions", methods=["POST"], content_types=offers_api.BROWSER_CONTENT_TYPES)
def offer_conversion():
    return offers_api.record_conversion(current_request())


@app.route("/demo/shop", methods=["GET"])
def demo_shop():
    return offers_api.demo_shop(current_request())


# Senders and operators (X-Api-Key locally; IAM in AWS).
@app.route("/v1/unsubscribe-headers", methods=["POST"], authorizer=ADMIN)
def unsubscribe_headers():
    return admin_api.unsubscribe_headers(current_request())


@app.route("/v1/send-check", methods=["POST"], authorizer=ADMIN)
def send_check():
    return admin_api.send_check(current_request())


@app.route("/v1/lists", methods=["POST"], authorizer=ADMIN)
def create_list():
    return admin_api.create_list(current_request())


@app.route("/v1/lists/{list_id}/subscribers", methods=["POST"], authorizer=ADMIN)
def add_subscriber(list_id):
    return admin_api.add_subscriber(current_request(), list_id)


@app.route("/v1/lists/{list_id}/imports", methods=["POST"], content_types=["text/csv", "text/plain"], authorizer=ADMIN)
def import_subscribers(list_id):
    return admin_api.import_subscribers(current_request(), list_id)


@app.route("/v1/subscribers/{subscriber_id}/consent", methods=["GET"], authorizer=ADMIN)
def export_consent(subscriber_id):
    return admin_api.export_consent(current_request(), subscriber_id)


@app.route("/v1/reports/unsubscribe-reasons", methods=["GET"], authorizer=ADMIN)
def unsubscribe_reasons():
    return admin_api.unsubscribe_reasons(current_request())


# Privacy: find by address (in the body, never the URL), export everything, erase.
@app.route("/v1/subscribers/find", methods=["POST"], authorizer=ADMIN)
def find_subscriber():
    return admin_api.find_subscriber(current_request())


@app.route("/v1/subscribers/{subscriber_id}", methods=["GET"], authorizer=ADMIN)
def export_subscriber(subscriber_id):
    return admin_api.export_subscriber(current_request(), subscriber_id)


@app.route("/v1/subscribers/{subscriber_id}", methods=["DELETE"], authorizer=ADMIN)
def erase_subscriber(subscriber_id):
    return admin_api.erase_subscriber(current_request(), subscriber_id)


@app.route("/v1/sites", methods=["POST"], authorizer=ADMIN)
def create_site():
    return admin_api.create_site(current_request())


@app.route("/v1/sites/{site_key}/campaigns/{campaign_id}", methods=["PUT"], authorizer=ADMIN)
def put_campaign(site_key, campaign_id):
    return admin_api.put_campaign(current_request(), site_key, campaign_id)


@app.route("/v1/sites/{site_key}/campaigns/{campaign_id}/enabled", methods=["PUT"], authorizer=ADMIN)
def campaign_kill_switch(site_key, campaign_id):
    return admin_api.set_campaign_enabled(current_request(), site_key, campaign_id)


@app.route("/v1/sites/{site_key}/campaigns/{campaign_id}/report", methods=["GET"], authorizer=ADMIN)
def campaign_report(site_key, campaign_id):
    return admin_api.campaign_report(current_request(), site_key, campaign_id)


# Any channel (web checkout, a store's till, a call centre): validate, then redeem exactly once.
@app.route("/v1/codes/{code}", methods=["GET"], authorizer=ADMIN)
def validate_code(code):
    return admin_api.validate_code(current_request(), code)


@app.route("/v1/codes/{code}/redemptions", methods=["POST"], authorizer=ADMIN)
def redeem_code(code):
    return admin_api.redeem_code(current_request(), code)


# Engagement from senders other than SES: signed JSON.
@app.route("/v1/engagement", methods=["POST"])
def engagement_webhook():
    return admin_api.engagement_webhook(current_request())


@app.route("/v1/lists/{list_id}/sunset-policy", methods=["PUT"], authorizer=ADMIN)
def sunset_policy(list_id):
    return admin_api.put_sunset_policy(current_request(), list_id)


@app.route("/v1/sunset/runs", methods=["GET"], authorizer=ADMIN)
def sunset_runs():
    return admin_api.sunset_runs(current_request())


@app.route("/v1/sunset/runs/{run_id}", methods=["GET"], authorizer=ADMIN)
def sunset_run(run_id):
    return admin_api.sunset_run(current_request(), run_id)


# Events: SES event publishing (SNS or EventBridge), the daily sunset run and its queue.
@app.on_sns_message(topic=os.environ.get("SES_EVENTS_TOPIC", "offboard-ses-events"))
def ses_event_from_sns(event):
    event_handlers.ses_record_from_sns(event)


@app.on_cw_event({"source": ["aws.ses"]})
def ses_event_from_eventbridge(event):
    event_handlers.ses_record_from_eventbridge(event)


@app.schedule(Cron(0, 3, "*", "*", "?", "*"))
def daily_sunset_run(event):
    event_handlers.plan_sunset_run(event)


@app.on_sqs_message(queue=os.environ.get("SUNSET_QUEUE_NAME", "offboard-sunset"), batch_size=1)
def sunset_step(event):
    event_handlers.sunset_worker(event)


@app.on_sqs_message(queue=os.environ.get("UNSUBSCRIBE_QUEUE_NAME", "offboard-unsubscribes"), batch_size=1)
def deferred_unsubscribe(event):
    event_handlers.deferred_unsubscribe_worker(event)
