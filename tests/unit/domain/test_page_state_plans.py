"""The planners behind the pages that fit a person's state (issue 17 item 9): resuming a pause
from the page, every email again after "less often", and each list's own survey reasons."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import consent
from chalicelib.domain.consent import ACTIVE, PAUSED, UNSUBSCRIBED, AuditContext, Outcome, Source, SubscriptionState

NOW = datetime(2026, 12, 3, tzinfo=UTC)
CTX = AuditContext(Source.PAGE)


def test_a_running_pause_resumes_expecting_the_pause_it_read():
    state = SubscriptionState("news", PAUSED, "EVENT#pause", NOW + timedelta(days=3))
    plan = consent.plan_resume(state, "news", CTX, NOW)
    assert plan.applied and plan.outcome == Outcome.RESUMED and plan.event.action == consent.Action.RESUME
    [write] = plan.writes
    assert write.status == ACTIVE and write.expect.statuses == {PAUSED} and write.expect.last_event == "EVENT#pause"
    assert write.members == 0  # a paused member is still counted as one


@pytest.mark.parametrize(
    "state",
    [
        SubscriptionState("news", ACTIVE, "EVENT#x"),
        SubscriptionState("news", UNSUBSCRIBED, "EVENT#x"),
        SubscriptionState("news"),
        SubscriptionState("news", PAUSED, "EVENT#x", NOW - timedelta(seconds=1)),  # ended by itself
    ],
)
def test_nothing_but_a_running_pause_resumes(state):
    plan = consent.plan_resume(state, "news", CTX, NOW)
    assert not plan.applied and plan.writes == ()


def test_every_email_again_clears_the_frequency_and_is_held_when_already_so():
    choice = consent.frequency_of(consent.FREQUENCY_CHOICE + consent.EVERY_EMAIL)
    assert choice == consent.EVERY_EMAIL
    plan = consent.plan_frequency(SubscriptionState("news", ACTIVE, frequency="weekly"), "news", choice, CTX, NOW)
    assert plan.applied and plan.writes[0].frequency is None and plan.event.frequency_before == "weekly"
    assert plan.counts == ("frequency#every",)
    held = consent.plan_frequency(SubscriptionState("news", ACTIVE), "news", choice, CTX, NOW)
    assert held.outcome == Outcome.FREQUENCY_HELD and not held.applied


def test_a_lists_survey_reasons_are_its_own_else_the_newsletter_defaults():
    assert consent.survey_reasons_of(None) == consent.DEFAULT_SURVEY_REASONS
    assert consent.survey_reasons_of(["other", "too_expensive"]) == ("other", "too_expensive")
    assert set(consent.DEFAULT_SURVEY_REASONS) <= set(consent.SURVEY_REASONS)
    assert consent.clean_survey("too_expensive", None, ("too_expensive",)) == ("too_expensive", None)
    with pytest.raises(consent.InvalidSurvey):
        consent.clean_survey("too_expensive", None, consent.DEFAULT_SURVEY_REASONS)


@pytest.mark.parametrize("bad", [["x"], ["other", "other"], "other", [1], list(consent.SURVEY_REASONS) + ["other"]])
def test_bad_survey_reason_settings_are_refused(bad):
    with pytest.raises(consent.InvalidSurveyReasons):
        consent.clean_survey_reasons(bad)
