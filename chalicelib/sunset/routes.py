"""Sunset: the re-permission email's "keep me subscribed" pages, engagement coming in (SES
event publishing over SNS or EventBridge, and a signed webhook for other senders), the daily
schedule and the job's queue, and the operators' policy and run reports.

Event handlers import what they need when they run, so HTTP requests (which share the
package) do not pay for them at cold start."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalice import Blueprint, Cron

from chalicelib.core.errors import NotFound, Unavailable
from chalicelib.core.http import (
    ADMIN,
    ANY_CONTENT,
    endpoint,
    header,
    html_response,
    json_body,
    language_of,
    raw_body,
)
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import event_sources, get_settings
from chalicelib.unsubscribe.headers import page_url
from chalicelib.unsubscribe.tokens import link_and_list

bp = Blueprint(__name__)


def _lists():
    from chalicelib.storage import lists  # PynamoDB: imported by the routes that read lists

    return lists


SOURCES = event_sources()


def _keep_page(request, mailing_list, action: str, outcome: str | None, list_names=(), kept_lists=(), note=None):
    from chalicelib.core.pages import render

    page = render(
        "keep.html",
        language_of(request),
        mailing_list,
        list_name=mailing_list.name,
        list_names=list(list_names) or [mailing_list.name],
        action=action,
        outcome=outcome,
        kept_lists=list(kept_lists),
        note=note,
    )
    return html_response(page)


def _names(list_ids: list[str]) -> list[str]:
    found = [_lists().cached_list(list_id) for list_id in list_ids]
    return [item.name if item else list_id for item, list_id in zip(found, list_ids, strict=True)]


# The re-permission email's button lands here; a GET only shows the button (scanners follow links).
@bp.route("/u/{token}/keep", methods=["GET"], content_types=ANY_CONTENT)
@endpoint("page")
def keep_page(request, token):
    from chalicelib.sunset.engagement import pending_lists

    verified, mailing_list = link_and_list(token)
    others = _names(pending_lists(verified.subscriber_id, verified.list_id))
    return _keep_page(
        request, mailing_list, page_url(get_settings(), token, "/keep"), None, list_names=[mailing_list.name, *others]
    )


@bp.route("/u/{token}/keep", methods=["POST"], content_types=ANY_CONTENT)
@endpoint("page")
def keep_subscribed(request, token):
    """The re-permission email's button: the service (`engagement.keep`) keeps the link's list
    and every other list the email asked about; this answers with the page saying which."""
    from chalicelib.core import i18n
    from chalicelib.domain.consent import AuditContext, Source
    from chalicelib.sunset.engagement import keep

    verified, mailing_list = link_and_list(token)
    ctx = AuditContext(Source.PAGE, key_id=verified.key_id, campaign_id=verified.campaign_id)
    result = keep(verified.subscriber_id, verified.list_id, ctx, datetime.now(UTC))
    kept, others = result.kept, result.others
    if kept or others:
        count("SunsetKeeps")
    t = i18n.translator(language_of(request))
    if not others:
        outcome = t("keep.done" if kept else "keep.unsubscribed", list=mailing_list.name)
        return _keep_page(request, mailing_list, "", outcome)
    kept_names = ([mailing_list.name] if kept else []) + _names(others)
    note = None if kept else t("keep.unsubscribed", list=mailing_list.name)
    return _keep_page(request, mailing_list, "", t("keep.done_many"), kept_lists=kept_names, note=note)


# Engagement from senders other than SES: signed JSON.
@bp.route("/v1/engagement", methods=["POST"], content_types=ANY_CONTENT)
@endpoint()
def engagement_webhook(request):
    """Signed by HMAC (not the API key): other senders post engagement facts here. Every fact
    is idempotent, so a 503 can simply be resent."""
    from chalicelib.core.contracts import validate
    from chalicelib.sunset import engagement
    from chalicelib.sunset.contracts import WebhookEnvelope

    secret = get_settings().webhook_secret or ""
    if len(secret) < 16:
        raise Unavailable("webhook_disabled", "no webhook secret is configured", retry_after=None)
    engagement.verify_webhook(
        raw_body(request),
        header(request, "x-offboard-timestamp"),
        header(request, "x-offboard-signature"),
        secret.encode(),
    )
    batch = validate(WebhookEnvelope, json_body(request, limit=256 * 1024), "bad_batch")
    outcomes = engagement.ingest(batch.events, parse=engagement.parse_webhook_event)
    return 202, {"outcomes": dict(outcomes)}


# Operators: a list's policy, and the job's reports.
@bp.route("/v1/lists/{list_id}/sunset-policy", methods=["PUT"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def sunset_policy(request, list_id):
    from chalicelib.sunset.policy import parse_policy

    policy = parse_policy(json_body(request))
    if not _lists().set_sunset_policy(list_id, policy.as_dict()):
        raise _lists().UnknownList(list_id)
    return {"list_id": list_id, "sunset": policy.as_dict()}


@bp.route("/v1/sunset/runs", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def sunset_runs(request):
    from chalicelib.sunset import job

    return {"runs": job.recent_reports()}


@bp.route("/v1/sunset/runs/{run_id}", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@endpoint(admin=True)
def sunset_run(request, run_id):
    from chalicelib.sunset import job

    found = job.run_report(run_id) if len(run_id) < 64 else None
    if found is None:
        raise NotFound("unknown_run", "no such run")
    return found


# Events: SES event publishing (SNS or EventBridge), the daily run and its queue.
@bp.on_sns_message(topic=SOURCES.ses_events_topic)
def ses_event_from_sns(event):
    from chalicelib.sunset import engagement

    # Never raises for a bad record (AWS would redeliver it): only a storage failure is retried.
    engagement.ingest([event.message], parse=engagement.parse_sns_record)


@bp.on_cw_event(SOURCES.ses_email_events)
def ses_event_from_eventbridge(event):
    from chalicelib.sunset import engagement

    engagement.ingest([event.detail])


@bp.schedule(Cron(0, 3, "*", "*", "?", "*"))
def daily_sunset_run(event):
    from chalicelib.sunset import job

    job.plan_run(job.enqueue)


@bp.on_sqs_message(queue=SOURCES.sunset_queue, batch_size=1)
def sunset_step(event):
    from chalicelib.sunset import job
    from chalicelib.sunset.email import send_reminder

    for record in event:
        try:
            message = json.loads(record.body)
        except ValueError:
            logger.warning("unreadable sunset message dropped")
            continue
        job.work(message, job.enqueue, event.context.get_remaining_time_in_millis, send_reminder)


# Operators: each recent run's funnel, as JSON or (Accept: text/html, ?format=html) a page.
SUNSET_FUNNEL = (("due", "found"), ("emailed", "emailed"), ("kept", "kept"), ("unsubscribed", "unsubscribed"))
# Due but not emailed this run: the send failed, or the person was moved to a later day.
NOT_EMAILED = ("email_failed", "rescheduled")


@bp.route("/v1/reports/sunset", methods=["GET"], content_types=ANY_CONTENT, authorizer=ADMIN)
@bp.route("/reports/sunset", methods=["GET"], content_types=ANY_CONTENT)  # a signed link's page (core.http)
@endpoint(admin=True)
def sunset_report(request):
    """Read from the run reports (`job.report`): due -> emailed -> kept -> unsubscribed, braked lists."""
    from chalicelib.core import http
    from chalicelib.core.pages import render_plain
    from chalicelib.sunset import job

    reports = job.recent_reports()
    funnels = [
        {
            "run_id": r["run_id"],
            "started_at": r["started_at"],
            "status": r["status"],
            "dry_run": r["dry_run"],
            "funnel": {step: r["outcomes"].get(outcome, 0) for step, outcome in SUNSET_FUNNEL},
            "not_emailed": {outcome: r["outcomes"].get(outcome, 0) for outcome in NOT_EMAILED},
            "braked_lists": r["braked_lists"],
        }
        for r in reports
    ]
    if http.wants_html(request):
        return http.html_response(render_plain("sunset_report.html", runs=funnels, steps=[s for s, _ in SUNSET_FUNNEL]))
    return {"runs": funnels}
