"""The recipient's side: one-click POSTs from mailbox providers and the pages people see.

GET never changes state (link scanners fetch every link); every change is a POST.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from pynamodb.exceptions import PynamoDBException

from chalicelib import consent, deferred_unsubscribes, i18n, tokens
from chalicelib.forms import BadForm, parse_form
from chalicelib.headers import ONE_CLICK
from chalicelib.identity import hash_ip
from chalicelib.observability import count, logger
from chalicelib.settings import get_settings
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext
from chalicelib.web import client_ip, header, html_response, json_response, problem, raw_body, redirect


def _now() -> datetime:
    return datetime.now(UTC)


def _verify(raw_token: str) -> tokens.UnsubscribeToken | None:
    try:
        token = tokens.verify(get_settings().signing_keys, raw_token)
    except tokens.InvalidToken as error:
        logger.info("rejected unsubscribe token", extra={"why": str(error)})
        count("RejectedInputs", kind="token")
        return None
    logger.append_keys(token_kid=token.key_id, list_id=token.list_id)
    return token


def _context(request, token: tokens.UnsubscribeToken, source: str) -> AuditContext:
    return AuditContext(
        source=source,
        ip_hash=hash_ip(get_settings().ip_hash_key, client_ip(request)),
        user_agent=header(request, "user-agent"),
        key_id=token.key_id,
        campaign_id=token.campaign_id,
    )


def _language(request) -> str:
    return i18n.negotiate(header(request, "accept-language"))


def _page_error(request, status: int, message_key: str, mailing_list=None, status_class: str = "error"):
    from chalicelib.pages import render

    language = _language(request)
    message = i18n.translator(language)(message_key)
    return html_response(
        render("error.html", language, mailing_list, message=message, status_class=status_class), status
    )


def _token_and_list(request, raw_token: str):
    """The verified token and its list, or the error page to show instead."""
    token = _verify(raw_token)
    if token is None:
        return None, None, _page_error(request, 400, "error.bad_token")
    mailing_list = lists.get_list(token.list_id)
    if mailing_list is None:
        return None, None, _page_error(request, 404, "error.unknown_list")
    return token, mailing_list, None


def _url(raw_token: str, suffix: str = "", event: str | None = None, **extra: str) -> str:
    path = f"{get_settings().public_base_url}/u/{raw_token}{suffix}"
    query = ([f"event={quote(event, safe='')}"] if event else []) + [f"{k}={v}" for k, v in extra.items()]
    return path + ("?" + "&".join(query) if query else "")


def post_unsubscribe(request, raw_token: str):
    """One route, two callers: a mailbox provider's one-click POST (`List-Unsubscribe=One-Click`
    or an empty body; answered 200, never redirected) and our own page's form (`choice=...`)."""
    token = _verify(raw_token)
    try:
        form = parse_form(header(request, "content-type"), raw_body(request))
    except BadForm as error:
        count("RejectedInputs", kind="form")
        if token is None:
            return problem(400, "invalid_token", "the unsubscribe link is not valid")
        return problem(error.status, "bad_form", str(error))
    if "choice" in form:
        return _apply_choice(request, raw_token, token, form["choice"])
    if token is None:
        return problem(400, "invalid_token", "the unsubscribe link is not valid")
    if form and form.get("List-Unsubscribe") != "One-Click":
        return problem(400, "bad_form", f"the body must be {ONE_CLICK} or empty")
    ctx, now = _context(request, token, "one-click"), _now()
    try:
        change = subscribers.unsubscribe(token.subscriber_id, token.list_id, ctx, now)
    except subscribers.UnknownList:
        return problem(404, "unknown_list", "this list does not exist")
    except PynamoDBException:
        logger.exception("one-click unsubscribe could not be stored; queueing it")
        if deferred_unsubscribes.defer(token.subscriber_id, token.list_id, ctx, now):
            return json_response({"status": "accepted"}, 202)
        return problem(503, "unavailable", "try again shortly", {"Retry-After": "5"})
    if change.applied:
        count("Unsubscribes", source="one-click")
    logger.info("one-click unsubscribe", extra={"applied": change.applied})
    return json_response({"status": consent.UNSUBSCRIBED})


def _apply_choice(request, raw_token: str, token: tokens.UnsubscribeToken | None, choice: str):
    if token is None:
        return _page_error(request, 400, "error.bad_token")
    if choice not in consent.CHOICES:
        return _page_error(request, 400, "error.bad_choice")
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
    except subscribers.UnknownList:
        return _page_error(request, 404, "error.unknown_list")
    except (PynamoDBException, subscribers.ConcurrentChange):
        logger.exception("unsubscribe choice could not be stored")
        until = consent.pause_end(choice, now) if choice in consent.PAUSE_DAYS else None
        if deferred_unsubscribes.defer(
            token.subscriber_id, token.list_id, ctx, now, everything=choice == "all", pause_until=until
        ):
            return _page_error(request, 202, "done.deferred", status_class="notice")
        return _page_error(request, 503, "error.unavailable")
    if change.applied:
        count("Unsubscribes" if choice in ("list", "all") else "Pauses", source="page")
    logger.info("unsubscribe choice", extra={"choice": choice, "applied": change.applied})
    if change.event_key is None:
        return redirect(_url(raw_token))
    return redirect(_url(raw_token, "/survey", change.event_key))


def landing_page(request, raw_token: str):
    from chalicelib.pages import render

    token, mailing_list, error = _token_and_list(request, raw_token)
    if error:
        return error
    subscription = subscribers.get_subscription(token.subscriber_id, token.list_id)
    return html_response(
        render(
            "choose.html",
            _language(request),
            mailing_list,
            list_name=mailing_list.name,
            action=_url(raw_token),
            already=subscription is not None and subscription.status == consent.UNSUBSCRIBED,
        )
    )


def _outcome(t, event, mailing_list) -> str:
    if event.action == "pause":
        return t("done.pause", list=mailing_list.name, until=event.until.strftime("%Y-%m-%d"))
    if event.action == "resubscribe" and event.list_id == "*":
        return t("done.resubscribe_all")
    key = {"subscribe": "done.resubscribe"}.get(event.action, f"done.{event.action}")
    return t(key, list=mailing_list.name)


def _event_for_page(request, raw_token: str):
    """The token, list and event a follow-up page is about, or the error page to show instead."""
    token, mailing_list, error = _token_and_list(request, raw_token)
    if error:
        return None, error
    key = (request.query_params or {}).get("event") or ""
    event = subscribers.get_event(token.subscriber_id, key) if len(key) < 80 else None
    if event is None or event.list_id not in (token.list_id, "*"):
        return None, _page_error(request, 404, "error.not_found")
    return (token, event, mailing_list), None


def survey_page(request, raw_token: str):
    from chalicelib.pages import render

    found, error = _event_for_page(request, raw_token)
    if error:
        return error
    _, event, mailing_list = found
    language = _language(request)
    if event.action not in consent.UNDO_ACTION or event.reason:
        return redirect(_url(raw_token, "/done", event.sk))
    return html_response(
        render(
            "survey.html",
            language,
            mailing_list,
            outcome=_outcome(i18n.translator(language), event, mailing_list),
            action=_url(raw_token, "/survey"),
            skip=_url(raw_token, "/done", event.sk),
            event=event.sk,
            reasons=consent.SURVEY_REASONS,
            comment_limit=consent.SURVEY_COMMENT_LIMIT,
        )
    )


def submit_survey(request, raw_token: str):
    token = _verify(raw_token)
    if token is None:
        return _page_error(request, 400, "error.bad_token")
    try:
        form = parse_form(header(request, "content-type"), raw_body(request), limit=16 * 1024)
    except BadForm:
        return _page_error(request, 400, "error.bad_form")
    key = form.get("event", "")
    if not form.get("reason") and not (form.get("comment") or "").strip():
        return redirect(_url(raw_token, "/done", key))  # nothing chosen: the survey is optional
    try:
        reason, comment = consent.clean_survey(form.get("reason"), form.get("comment"))
    except consent.InvalidSurvey:
        count("RejectedInputs", kind="survey")
        return _page_error(request, 400, "error.bad_survey")
    stored = subscribers.record_survey(token.subscriber_id, token.list_id, key, reason, comment)
    if stored:
        count("SurveyAnswers", reason=reason)
    return redirect(_url(raw_token, "/done", key, thanks="1"))


def done_page(request, raw_token: str):
    from chalicelib.pages import render

    found, error = _event_for_page(request, raw_token)
    if error:
        return error
    _, event, mailing_list = found
    language = _language(request)
    t = i18n.translator(language)
    undo_label = None
    if event.action in consent.UNDO_ACTION:
        undo_label = t("undo.pause") if event.action == "pause" else t("undo.unsubscribe")
    return html_response(
        render(
            "done.html",
            language,
            mailing_list,
            outcome=_outcome(t, event, mailing_list),
            thanks=(request.query_params or {}).get("thanks") == "1",
            undo_label=undo_label,
            undo_action=_url(raw_token, "/undo"),
            event=event.sk,
        )
    )


def submit_undo(request, raw_token: str):
    token = _verify(raw_token)
    if token is None:
        return _page_error(request, 400, "error.bad_token")
    try:
        form = parse_form(header(request, "content-type"), raw_body(request))
    except BadForm:
        return _page_error(request, 400, "error.bad_form")
    try:
        change = subscribers.undo(
            token.subscriber_id, token.list_id, form.get("event", ""), _context(request, token, "page"), _now()
        )
    except (PynamoDBException, subscribers.ConcurrentChange):
        logger.exception("undo could not be stored")
        return _page_error(request, 503, "error.unavailable")
    if not change.applied:
        return _page_error(request, 409, "done.undo_unavailable", lists.get_list(token.list_id))
    count("Resubscribes", source="page")
    return redirect(_url(raw_token, "/done", change.event_key))


def keep_page(request, raw_token: str):
    """The re-permission email's button lands here; a GET only shows the button (scanners)."""
    from chalicelib.pages import render

    token, mailing_list, error = _token_and_list(request, raw_token)
    if error:
        return error
    return html_response(
        render(
            "keep.html",
            _language(request),
            mailing_list,
            list_name=mailing_list.name,
            action=_url(raw_token, "/keep"),
            outcome=None,
        )
    )


def submit_keep(request, raw_token: str):
    """Counts as engagement: the sunset clock restarts and a pending re-permission ends. Someone
    the job already unsubscribed comes back, since they asked to stay; a person's own
    unsubscribe is never overridden from here."""
    from chalicelib.pages import render

    token, mailing_list, error = _token_and_list(request, raw_token)
    if error:
        return error
    t = i18n.translator(_language(request))
    now = _now()
    kept = subscribers.record_engagement(token.subscriber_id, token.list_id, now)
    if not kept:
        subscription = subscribers.get_subscription(token.subscriber_id, token.list_id)
        last = subscribers.get_event(token.subscriber_id, subscription.last_event or "") if subscription else None
        if (
            subscription
            and subscription.status == consent.UNSUBSCRIBED
            and last is not None
            and last.source == "sunset"
        ):
            profile = subscribers.get_profile(token.subscriber_id)
            subscribers.subscribe(
                token.subscriber_id,
                profile.email if profile else "",
                token.list_id,
                _context(request, token, "page"),
                now,
                resubscribe=True,
            )
            kept = True
        elif subscription and subscription.status != consent.UNSUBSCRIBED:
            kept = True  # already engaged at least as recently
    if kept:
        count("SunsetKeeps")
    outcome = t("keep.done" if kept else "keep.unsubscribed", list=mailing_list.name)
    return html_response(
        render("keep.html", _language(request), mailing_list, list_name=mailing_list.name, action="", outcome=outcome)
    )
