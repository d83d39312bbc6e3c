"""The exit survey: which reasons a list offers and what a person may answer."""

from __future__ import annotations

# Every reason a list may offer in its exit survey (each is counted per list and month); a list
# picks some of them (its branding's `survey_reasons`), else it asks the newsletter defaults.
SURVEY_REASONS = (
    "too_many_emails",
    "not_relevant",
    "too_expensive",
    "switched_service",
    "missing_features",
    "technical_problems",
    "never_signed_up",
    "prefer_other_channel",
    "other",
)
DEFAULT_SURVEY_REASONS = ("too_many_emails", "not_relevant", "never_signed_up", "prefer_other_channel", "other")
SURVEY_COMMENT_LIMIT = 2000


class InvalidSurvey(ValueError):
    pass


class InvalidSurveyReasons(ValueError):
    pass


MAX_SURVEY_REASONS = 10


def clean_survey_reasons(value) -> list[str] | None:
    """A list's own survey reasons, as an operator gives them: known reasons, each once, in the
    order the page shows them (None or empty: the defaults)."""
    if value is None or value == []:
        return None
    if not isinstance(value, list) or not all(isinstance(reason, str) for reason in value):
        raise InvalidSurveyReasons("survey_reasons is a list of reason ids")
    unknown = [reason for reason in value if reason not in SURVEY_REASONS]
    if unknown:
        raise InvalidSurveyReasons(f"unknown survey reasons {unknown}; choose from {list(SURVEY_REASONS)}")
    if len(set(value)) != len(value) or len(value) > MAX_SURVEY_REASONS:
        raise InvalidSurveyReasons(f"name each reason once, at most {MAX_SURVEY_REASONS}")
    return list(value)


def survey_reasons_of(configured) -> tuple[str, ...]:
    """The reasons a list's survey offers: its own (unknown ones dropped), else the defaults."""
    own = tuple(reason for reason in configured or () if reason in SURVEY_REASONS)
    return own or DEFAULT_SURVEY_REASONS


def clean_survey(
    reason: str | None, comment: str | None, offered: tuple[str, ...] = SURVEY_REASONS
) -> tuple[str, str | None]:
    if reason not in offered:
        raise InvalidSurvey("choose one of the listed reasons")
    comment = (comment or "").strip() or None
    if comment and len(comment) > SURVEY_COMMENT_LIMIT:
        raise InvalidSurvey(f"the comment is longer than {SURVEY_COMMENT_LIMIT} characters")
    return reason, comment
