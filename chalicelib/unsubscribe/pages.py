"""The pages of a link, rendered from what the services return: the choice page, the exit
survey, the confirmation with its undo. No state changes here."""

from __future__ import annotations

from chalicelib.core import i18n
from chalicelib.core.pages import render
from chalicelib.domain import consent
from chalicelib.domain.consent import Action


def outcome(t, event, mailing_list, language: str = i18n.DEFAULT) -> str:
    """What the confirmation says a change did."""
    if event.action == Action.FREQUENCY:
        if event.frequency is None:
            return t("done.frequency_usual", list=mailing_list.name)
        label = consent.frequency_label(mailing_list.frequencies, event.frequency, language)
        return t("done.frequency", list=mailing_list.name, frequency=label)
    if event.action == Action.PAUSE:
        return t("done.pause", list=mailing_list.name, until=event.until.strftime("%Y-%m-%d"))
    if event.action == Action.RESUBSCRIBE and event.list_id == consent.EVERY_LIST:
        return t("done.resubscribe_all")
    key = {Action.SUBSCRIBE: "done.resubscribe"}.get(event.action, f"done.{event.action}")
    return t(key, list=mailing_list.name)


def choice_page(language: str, landing, action: str) -> str:
    mailing_list, subscription = landing.mailing_list, landing.subscription
    offered = mailing_list.frequencies or []
    return render(
        "choose.html",
        language,
        mailing_list,
        list_name=mailing_list.name,
        action=action,
        already=landing.already_left,
        # "less often" only for someone it would change: on the list now
        frequencies=[{"id": f["id"], "label": consent.frequency_label(offered, f["id"], language)} for f in offered]
        if landing.receiving
        else [],
        current_frequency=consent.frequency_label(offered, subscription.frequency, language)
        if landing.receiving
        else None,
    )


def asks_survey(event) -> bool:
    """The survey follows an unsubscribe or a pause, once."""
    return event.action in consent.UNDO_ACTION and not event.reason


def survey_page(language: str, event, mailing_list, action: str, skip: str) -> str:
    paused = event.action == Action.PAUSE
    return render(
        "survey.html",
        language,
        mailing_list,
        outcome=outcome(i18n.translator(language), event, mailing_list, language),
        action=action,
        skip=skip,
        event=event.sk,
        title_key="title.survey_pause" if paused else "title.survey",
        legend_key="survey.legend_pause" if paused else "survey.legend",
        reasons=consent.SURVEY_REASONS,
        comment_limit=consent.SURVEY_COMMENT_LIMIT,
    )


def done_page(language: str, event, mailing_list, thanks: bool, undo_action: str) -> str:
    t = i18n.translator(language)
    undo_label = None
    if consent.undoable(event.action, event.source):
        undo_label = t("undo.pause") if event.action == Action.PAUSE else t("undo.unsubscribe")
    elif event.action == Action.FREQUENCY and event.frequency is not None:
        undo_label = t("undo.frequency")
    return render(
        "done.html",
        language,
        mailing_list,
        outcome=outcome(t, event, mailing_list, language),
        thanks=thanks,
        undo_label=undo_label,
        undo_action=undo_action,
        event=event.sk,
    )
