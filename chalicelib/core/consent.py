"""The rules of consent, free of storage: who may be sent to, and what each choice does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ACTIVE, UNSUBSCRIBED, PAUSED = "active", "unsubscribed", "paused"
CHANNELS = ("email", "sms", "push")
SOURCES = (
    "one-click",
    "page",
    "api",
    "import",
    "sunset",
    "complaint",
    "bounce",
    "erasure",
    "ses-subscription",  # SES subscription management (its own unsubscribe header or page), a Subscription event
    "mailto",  # an email to the List-Unsubscribe mailto address (SES receiving)
    "sms-keyword",  # STOP / START sent to one of our SMS numbers (AWS End User Messaging SMS two-way)
)

# What a person can choose on the unsubscribe page; "all" must exist whenever per-list choices do.
CHOICES = ("list", "all", "pause30", "pause90")
PAUSE_DAYS = {"pause30": 30, "pause90": 90}

SURVEY_REASONS = (
    "too_many_emails",
    "not_relevant",
    "too_expensive",
    "switched_service",
    "missing_features",
    "technical_problems",
    "other",
)
SURVEY_COMMENT_LIMIT = 2000

# What undoing an event does: an unsubscribe is undone by a resubscribe, a pause by a resume.
UNDO_ACTION = {"unsubscribe": "resubscribe", "unsubscribe_all": "resubscribe", "pause": "resume"}


@dataclass(frozen=True)
class Permission:
    allowed: bool
    reason: str


def may_send(
    status: str | None,
    paused_until: datetime | None,
    opted_out_all: bool,
    suppressed_channels: set[str],
    channel: str,
    now: datetime,
) -> Permission:
    """A choice made on any channel holds on every channel: an unsubscribe is per list, not per medium."""
    if status is None:
        return Permission(False, "not_subscribed")
    if opted_out_all:
        return Permission(False, "opted_out_all")
    if channel in suppressed_channels:
        return Permission(False, "channel_suppressed")
    if status == UNSUBSCRIBED:
        return Permission(False, "unsubscribed")
    if status == PAUSED and paused_until is not None and now < paused_until:
        return Permission(False, "paused")
    return Permission(True, "subscribed")


def pause_end(choice: str, now: datetime) -> datetime:
    return now + timedelta(days=PAUSE_DAYS[choice])


class InvalidSurvey(ValueError):
    pass


def clean_survey(reason: str | None, comment: str | None) -> tuple[str, str | None]:
    if reason not in SURVEY_REASONS:
        raise InvalidSurvey("choose one of the listed reasons")
    comment = (comment or "").strip() or None
    if comment and len(comment) > SURVEY_COMMENT_LIMIT:
        raise InvalidSurvey(f"the comment is longer than {SURVEY_COMMENT_LIMIT} characters")
    return reason, comment
