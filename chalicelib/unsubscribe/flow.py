"""The recipient's side: one-click POSTs from mailbox providers and the pages people see.

GET never changes state (link scanners fetch every link); every change is a POST. Functions
raise `core.errors` for what went wrong; the routes' endpoint decorator answers them as a JSON
problem (mailbox providers) or a page (people).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pynamodb.exceptions import PynamoDBException

from chalicelib.core import consent, i18n
from chalicelib.core.errors import Conflict, Invalid, NotFound, TooLarge, Unavailable
from chalicelib.core.forms import FORM_CONTENT_TYPES, FORM_URLENCODED, MAX_FORM_BYTES, parse_form
from chalicelib.core.http import (
    client_ip,
    error_page,
    header,
    html_response,
    json_response,
    language_of,
    media_type,
    raw_body,
    redirect,
)
from chalicelib.core.ids import hash_ip
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext
from chalicelib.unsubscribe import deferred
from chalicelib.unsubscribe.headers import ONE_CLICK, page_url
from chalicelib.unsubscribe.tokens import SUNSET_CAMPAIGN, UnsubscribeToken, verify_link


def _now() -> datetime:
    return datetime.now(UTC)


def _context(request, token: UnsubscribeToken, source: str) -> AuditContext:
    return AuditContext(
        source=source,
        ip_hash=hash_ip(get_settings().ip_hash_key, client_ip(request)),
        user_agent=header(request, "user-agent"),
        key_id=token.key_id,
        campaign_id=token.campaign_id,
    )


def _url(raw_token: str, suffix: str = "", event: str | None = None, **extra: str) -> str:
    return page_url(get_settings(), raw_token, suffix, event, **extra)


def _token_and_list(raw_token: str):
    token = verify_link(raw_token)
    mailing_list = lists.get_list(token.list_id)
    if mailing_list is None:
        raise NotFound("unknown_list", "this list does not exist")
    return token, mailing_list


def _form(request, limit: int | None = None) -> dict[str, str]:
    body = raw_body(request)
    if limit is None:
        return parse_form(header(request, "content-type"), body)
    return parse_form(header(request, "content-type"), body, limit=limit)


def _one_click_form(request) -> dict[str, str]:
    """Be liberal in what this route accepts: mailbox providers send the RFC 8058 body as a
    form, but some clients send it with no Content-Type, as text/plain, or as JSON."""
    if media_type(request) in FORM_CONTENT_TYPES:
        return _form(request)
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


def answers_people(request) -> str:
    """The unsubscribe POST serves mailbox providers (JSON) and our own page's form (pages)."""
    try:
        return "page" if "choice" in _one_click_form(request) else "json"
    except Invalid:
        return "json"


def post_unsubscribe(request, token: str):
    """One route, two callers: a mailbox provider's one-click POST (`List-Unsubscribe=One-Click`
    or an empty body; answered 200, never redirected) and our own page's form (`choice=...`)."""
    raw_token = token
    try:
        form = _one_click_form(request)
    except Invalid:
        count("RejectedInputs", kind="form")
        verify_link(raw_token)  # a bad link is named before a bad body
        raise
    if "choice" in form:
        return _apply_choice(request, raw_token, form["choice"])
    verified = verify_link(raw_token)
    if form and form.get("List-Unsubscribe") != "One-Click":
        raise Invalid("bad_form", f"the body must be {ONE_CLICK} or empty")
    ctx, now = _context(request, verified, "one-click"), _now()
    # The re-permission email's one-click leaves every list that email named.
    leave = subscribers.unsubscribe_reminded if verified.campaign_id == SUNSET_CAMPAIGN else subscribers.unsubscribe
    try:
        change = leave(verified.subscriber_id, verified.list_id, ctx, now)
    except subscribers.UnknownList as error:
        raise NotFound("unknown_list", "this list does not exist") from error
    except PynamoDBException as error:
        logger.exception("one-click unsubscribe could not be stored; queueing it")
        if deferred.defer(verified.subscriber_id, verified.list_id, ctx, now):
            return json_response({"status": "accepted"}, 202)
        raise Unavailable("unavailable", "try again shortly") from error
    if change.applied:
        count("Unsubscribes", source="one-click")
    logger.info("one-click unsubscribe", extra={"applied": change.applied})
    return json_response({"status": consent.UNSUBSCRIBED})


def _apply_frequency(request, raw_token: str, token: UnsubscribeToken, frequency: str):
    """Less often: stored with its consent event, then the confirmation page (with its undo).
    Someone who left is not brought back by it; choosing the frequency held records nothing."""
    mailing_list = lists.get_list(token.list_id)
    if mailing_list is None:
        raise NotFound("unknown_list", "this list does not exist")
    if frequency not in [f["id"] for f in mailing_list.frequencies or ()]:
        raise Invalid("bad_choice", "choose one of the options")
    try:
        change = subscribers.set_frequency(
            token.subscriber_id, token.list_id, frequency, _context(request, token, "page"), _now()
        )
    except (PynamoDBException, subscribers.ConcurrentChange) as error:
        logger.exception("frequency choice could not be stored")
        raise Unavailable("unavailable", "try again shortly") from error
    if change.status not in (consent.ACTIVE, consent.PAUSED):
        raise Conflict("not_subscribed", "only a subscriber can choose how often to get a list")
    if change.applied:
        count("FrequencyChoices", source="page")
    logger.info("frequency choice", extra={"applied": change.applied})
    if not change.applied:  # held already: its confirmation if that is the latest change, else the page saying so
        latest = subscribers.get_event(token.subscriber_id, change.event_key or "")
        if latest is None or latest.action != "frequency":
            return redirect(_url(raw_token))
    return redirect(_url(raw_token, "/done", change.event_key))


def _apply_choice(request, raw_token: str, choice: str):
    token = verify_link(raw_token)
    frequency = consent.frequency_of(choice)
    if frequency is not None:
        return _apply_frequency(request, raw_token, token, frequency)
    if choice not in consent.CHOICES:
        raise Invalid("bad_choice", "choose one of the options")
    ctx, now = _context(request, token, "page"), _now()
    try:
        if choice == "list":
            change = subscribers.unsubscribe(token.subscriber_id, token.list_id, ctx, now)
        elif choice == "all":
            if lists.get_list(token.list_id) is None:
                raise subscribers.UnknownList(token.list_id)
            change = subscribers.unsubscribe_all(token.subscriber_id, ctx, now)
        else:
            until = consent.pause_end(choice, now)
            change = subscribers.pause(token.subscriber_id, token.list_id, until, ctx, now)
    except subscribers.UnknownList as error:
        raise NotFound("unknown_list", "this list does not exist") from error
    except (PynamoDBException, subscribers.ConcurrentChange) as error:
        logger.exception("unsubscribe choice could not be stored")
        until = consent.pause_end(choice, now) if choice in consent.PAUSE_DAYS else None
        if deferred.defer(token.subscriber_id, token.list_id, ctx, now, everything=choice == "all", pause_until=until):
            return error_page(request, 202, "done.deferred", status_class="notice")
        raise Unavailable("unavailable", "try again shortly") from error
    if change.applied:
        count("Unsubscribes" if choice in ("list", "all") else "Pauses", source="page")
    logger.info("unsubscribe choice", extra={"choice": choice, "applied": change.applied})
    if change.event_key is None:
        return redirect(_url(raw_token))
    return redirect(_url(raw_token, "/survey", change.event_key))


def landing_page(request, token: str):
    from chalicelib.core.pages import render

    verified, mailing_list = _token_and_list(token)
    subscription = subscribers.get_subscription(verified.subscriber_id, verified.list_id)
    language = language_of(request)
    offered = mailing_list.frequencies or []
    subscribed = subscription is not None and subscription.status in (consent.ACTIVE, consent.PAUSED)
    return html_response(
        render(
            "choose.html",
            language,
            mailing_list,
            list_name=mailing_list.name,
            action=_url(token),
            already=subscription is not None and subscription.status == consent.UNSUBSCRIBED,
            # "less often" only for someone it would change: on the list now
            frequencies=[{"id": f["id"], "label": consent.frequency_label(offered, f["id"], language)} for f in offered]
            if subscribed
            else [],
            current_frequency=consent.frequency_label(offered, subscription.frequency, language)
            if subscribed
            else None,
        )
    )


def _outcome(t, event, mailing_list, language: str = i18n.DEFAULT) -> str:
    if event.action == "frequency":
        if event.frequency is None:
            return t("done.frequency_usual", list=mailing_list.name)
        label = consent.frequency_label(mailing_list.frequencies, event.frequency, language)
        return t("done.frequency", list=mailing_list.name, frequency=label)
    if event.action == "pause":
        return t("done.pause", list=mailing_list.name, until=event.until.strftime("%Y-%m-%d"))
    if event.action == "resubscribe" and event.list_id == "*":
        return t("done.resubscribe_all")
    key = {"subscribe": "done.resubscribe"}.get(event.action, f"done.{event.action}")
    return t(key, list=mailing_list.name)


def _event_for_page(request, raw_token: str):
    """The token, event and list a follow-up page is about."""
    token, mailing_list = _token_and_list(raw_token)
    key = (request.query_params or {}).get("event") or ""
    event = subscribers.get_event(token.subscriber_id, key) if len(key) < 80 else None
    if event is None or event.list_id not in (token.list_id, "*"):
        raise NotFound("not_found", "no such change for this link")
    return token, event, mailing_list


def survey_page(request, token: str):
    from chalicelib.core.pages import render

    _, event, mailing_list = _event_for_page(request, token)
    language = language_of(request)
    if event.action not in consent.UNDO_ACTION or event.reason:
        return redirect(_url(token, "/done", event.sk))
    return html_response(
        render(
            "survey.html",
            language,
            mailing_list,
            outcome=_outcome(i18n.translator(language), event, mailing_list, language),
            action=_url(token, "/survey"),
            skip=_url(token, "/done", event.sk),
            event=event.sk,
            title_key="title.survey_pause" if event.action == "pause" else "title.survey",
            legend_key="survey.legend_pause" if event.action == "pause" else "survey.legend",
            reasons=consent.SURVEY_REASONS,
            comment_limit=consent.SURVEY_COMMENT_LIMIT,
        )
    )


# The comment's own limit in characters, each up to 4 bytes in UTF-8 and 3 characters each
# percent-encoded: the body limit follows from it (plus the other fields).
SURVEY_BODY_LIMIT = consent.SURVEY_COMMENT_LIMIT * 12 + 4096


def submit_survey(request, token: str):
    verified = verify_link(token)
    form = _form(request, limit=SURVEY_BODY_LIMIT)
    key = form.get("event", "")
    if not key.startswith("EVENT#") or len(key) >= 80:
        raise NotFound("not_found", "the survey names no change of this link")
    if not form.get("reason") and not (form.get("comment") or "").strip():
        return redirect(_url(token, "/done", key))  # nothing chosen: the survey is optional
    try:
        reason, comment = consent.clean_survey(form.get("reason"), form.get("comment"))
    except consent.InvalidSurvey as error:
        raise Invalid("bad_survey", str(error)) from error
    stored = subscribers.record_survey(verified.subscriber_id, verified.list_id, key, reason, comment, _now())
    if not stored:
        event = subscribers.get_event(verified.subscriber_id, key)
        if event is None or event.list_id not in (verified.list_id, "*"):
            raise NotFound("not_found", "the survey names no change of this link")
        return redirect(_url(token, "/done", key))  # answered before (a double submit): kept as it was
    count("SurveyAnswers", reason=reason)
    return redirect(_url(token, "/done", key, thanks="1"))


def done_page(request, token: str):
    from chalicelib.core.pages import render

    _, event, mailing_list = _event_for_page(request, token)
    language = language_of(request)
    t = i18n.translator(language)
    undo_label = None
    if event.action in consent.UNDO_ACTION:
        undo_label = t("undo.pause") if event.action == "pause" else t("undo.unsubscribe")
    elif event.action == "frequency" and event.frequency is not None:
        undo_label = t("undo.frequency")
    return html_response(
        render(
            "done.html",
            language,
            mailing_list,
            outcome=_outcome(t, event, mailing_list, language),
            thanks=(request.query_params or {}).get("thanks") == "1",
            undo_label=undo_label,
            undo_action=_url(token, "/undo"),
            event=event.sk,
        )
    )


def _undone_by(token: UnsubscribeToken, undone_key: str) -> str | None:
    """The event that already undid `undone_key` on this link's list, if that is the list's
    latest change (a repeated undo), else None."""
    original = subscribers.get_event(token.subscriber_id, undone_key)
    subscription = subscribers.get_subscription(token.subscriber_id, token.list_id)
    if original is None or subscription is None or not subscription.last_event:
        return None
    latest = subscribers.get_event(token.subscriber_id, subscription.last_event)
    if latest is None or latest.action != consent.UNDO_ACTION.get(original.action) or latest.at < original.at:
        return None
    return latest.sk


def _undo_frequency(request, token: str, verified: UnsubscribeToken, key: str):
    try:
        change = subscribers.undo_frequency(
            verified.subscriber_id, verified.list_id, key, _context(request, verified, "page"), _now()
        )
    except PynamoDBException as error:
        logger.exception("frequency undo could not be stored")
        raise Unavailable("unavailable", "try again shortly") from error
    if change.applied:
        return redirect(_url(token, "/done", change.event_key))
    original = subscribers.get_event(verified.subscriber_id, key)
    subscription = subscribers.get_subscription(verified.subscriber_id, verified.list_id)
    latest = subscribers.get_event(verified.subscriber_id, subscription.last_event or "") if subscription else None
    if (
        original is not None
        and latest is not None
        and latest.action == "frequency"
        and latest.frequency_before == original.frequency
        and latest.frequency == original.frequency_before
        and latest.at >= original.at
    ):
        return redirect(_url(token, "/done", latest.sk))  # a double click: show what the first one did
    return error_page(request, 409, "done.undo_unavailable", lists.get_list(verified.list_id))


def submit_undo(request, token: str):
    verified = verify_link(token)
    form = _form(request)
    now = _now()
    undone = subscribers.get_event(verified.subscriber_id, form.get("event", ""))
    if undone is not None and undone.action == "frequency":
        return _undo_frequency(request, token, verified, undone.sk)
    try:
        change = subscribers.undo(
            verified.subscriber_id,
            verified.list_id,
            form.get("event", ""),
            _context(request, verified, "page"),
            now,
            sunset_due=now,  # the sunset job reviews a returning member on its next run
        )
    except (PynamoDBException, subscribers.ConcurrentChange) as error:
        logger.exception("undo could not be stored")
        raise Unavailable("unavailable", "try again shortly") from error
    if not change.applied:
        already = _undone_by(verified, form.get("event", ""))
        if already is not None:
            return redirect(_url(token, "/done", already))  # a double click: show what the first one did
        return error_page(request, 409, "done.undo_unavailable", lists.get_list(verified.list_id))
    count("Resubscribes", source="page")
    return redirect(_url(token, "/done", change.event_key))
