from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import consent

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def allowed(status, paused_until=None, opted_out_all=False, suppressed=(), channel="email"):
    return consent.may_send(status, paused_until, opted_out_all, set(suppressed), channel, NOW)


def test_an_active_subscriber_may_be_sent_to_on_every_channel():
    assert all(allowed("active", channel=c).allowed for c in consent.CHANNELS)


@pytest.mark.parametrize("channel", consent.CHANNELS)
def test_an_unsubscribe_given_by_email_holds_on_every_channel(channel):
    assert allowed("unsubscribed", channel=channel) == consent.Permission(False, "unsubscribed")


def test_nobody_is_sent_to_without_a_subscription():
    assert allowed(None) == consent.Permission(False, "not_subscribed")


def test_a_pause_blocks_until_it_ends():
    assert allowed("paused", NOW + timedelta(days=1)).reason == "paused"
    assert allowed("paused", NOW - timedelta(seconds=1)).allowed


def test_opting_out_of_everything_wins_over_an_active_list():
    assert allowed("active", opted_out_all=True).reason == "opted_out_all"


def test_a_suppressed_channel_blocks_only_that_channel():
    assert allowed("active", suppressed={"email"}, channel="email").reason == "channel_suppressed"
    assert allowed("active", suppressed={"email"}, channel="sms").allowed


def test_pauses_last_30_or_90_days():
    assert consent.pause_end("pause30", NOW) == NOW + timedelta(days=30)
    assert consent.pause_end("pause90", NOW) == NOW + timedelta(days=90)


def test_the_survey_takes_only_listed_reasons_and_a_bounded_comment():
    assert consent.clean_survey("other", "  too loud ") == ("other", "too loud")
    assert consent.clean_survey("too_expensive", "") == ("too_expensive", None)
    with pytest.raises(consent.InvalidSurvey):
        consent.clean_survey("you_are_great", None)
    with pytest.raises(consent.InvalidSurvey):
        consent.clean_survey(None, "just a comment")
    with pytest.raises(consent.InvalidSurvey):
        consent.clean_survey("other", "x" * (consent.SURVEY_COMMENT_LIMIT + 1))


def test_stop_everything_is_offered_whenever_per_list_choices_are():
    assert "all" in consent.CHOICES and "list" in consent.CHOICES
