"""The rules of consent, free of storage: who may be sent to, and what each choice does."""

from __future__ import annotations

import re
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

# "Less often" instead of leaving: an operator may offer a few frequencies per list. The page
# posts `choice=frequency:<id>`; the choice is stored on the subscription and answered at send time.
FREQUENCY_CHOICE = "frequency:"
MAX_FREQUENCIES = 4
FREQUENCY_LABEL_LIMIT = 80
_FREQUENCY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
FREQUENCY_FIELDS = ("id", "label", "labels")


class InvalidFrequencies(ValueError):
    pass


def _label(value, where: str) -> str:
    if not isinstance(value, str) or not 0 < len(value.strip()) <= FREQUENCY_LABEL_LIMIT:
        raise InvalidFrequencies(f"{where} must be 1-{FREQUENCY_LABEL_LIMIT} characters")
    if any(ord(c) < 32 for c in value):
        raise InvalidFrequencies(f"{where} must not hold control characters")
    return value.strip()


def clean_frequencies(value, languages: tuple[str, ...]) -> list[dict]:
    """A list's frequencies as an operator gives them: at most MAX_FREQUENCIES objects, each with
    an `id` (lower-case letters, digits, '-' or '_', up to 32), a `label` and optional `labels`
    per language; ids are unique."""
    if not isinstance(value, list) or len(value) > MAX_FREQUENCIES:
        raise InvalidFrequencies(f"frequencies must be a list of at most {MAX_FREQUENCIES} entries")
    cleaned, seen = [], set()
    for entry in value:
        if not isinstance(entry, dict) or set(entry) - set(FREQUENCY_FIELDS):
            raise InvalidFrequencies("each frequency is an object with id, label and optional labels")
        frequency_id = entry.get("id")
        if not isinstance(frequency_id, str) or not _FREQUENCY_ID.match(frequency_id):
            raise InvalidFrequencies("a frequency id is 1-32 lower-case letters, digits, '-' or '_'")
        if frequency_id in seen:
            raise InvalidFrequencies(f"the frequency id {frequency_id} is given twice")
        seen.add(frequency_id)
        labels = entry.get("labels") or {}
        if not isinstance(labels, dict) or set(labels) - set(languages):
            raise InvalidFrequencies(f"labels takes the languages {', '.join(languages)}")
        cleaned.append(
            {
                "id": frequency_id,
                "label": _label(entry.get("label"), "a frequency label"),
                **({"labels": {k: _label(v, f"the {k} label") for k, v in labels.items()}} if labels else {}),
            }
        )
    return cleaned


def frequency_of(choice: str) -> str | None:
    """The frequency id a page choice names, or None when it names no frequency."""
    if isinstance(choice, str) and choice.startswith(FREQUENCY_CHOICE):
        frequency_id = choice.removeprefix(FREQUENCY_CHOICE)
        return frequency_id if _FREQUENCY_ID.match(frequency_id) else None
    return None


def frequency_label(frequencies: list[dict] | None, frequency_id: str | None, language: str) -> str | None:
    """What a person reads for a frequency id (the id itself when the list no longer offers it)."""
    if frequency_id is None:
        return None
    for entry in frequencies or ():
        if entry.get("id") == frequency_id:
            return (entry.get("labels") or {}).get(language) or entry.get("label") or frequency_id
    return frequency_id


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
