"""Engagement facts applied to subscriptions on moto: duplicates, disorder, complaints, bounces."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.ids import subscriber_id_for
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext
from chalicelib.sunset import engagement
from chalicelib.unsubscribe import senders
from tests.helpers import join, record, sns_message

JOINED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def recipient(aws, settings):
    lists.create_list("newsletter", "Newsletter")
    lists.create_list("promo", "Promo")
    sid = subscriber_id_for(settings.subscriber_id_key, "recipient@example.com")
    for list_id in ("newsletter", "promo"):
        join(sid, "recipient@example.com", list_id, AuditContext("api"), JOINED)
    return sid


def ingest(*records):
    return engagement.ingest(list(records), now=datetime(2026, 11, 22, tzinfo=UTC))


def test_send_and_delivery_of_one_message_count_once_however_often_they_arrive(recipient):
    outcomes = ingest(record("send", recipient), record("delivery", recipient), record("delivery", recipient))
    assert outcomes == {"send_counted": 1, "send_duplicate": 2}
    other = record("send", recipient, messageId="another-message")
    ingest(other)
    assert subscribers.get_subscription(recipient, "newsletter").sends_since_engaged == 2


def test_a_human_click_moves_last_engaged_forward_and_restarts_the_clock(recipient):
    ingest(record("send", recipient))
    before = subscribers.get_subscription(recipient, "newsletter").sunset_due
    assert ingest(record("click", recipient)) == {"engaged": 1}
    after = subscribers.get_subscription(recipient, "newsletter")
    assert after.last_engaged_at == datetime(2026, 11, 21, 8, 16, tzinfo=UTC)
    assert after.sends_since_engaged == 0 and after.sunset_due > before and after.sunset_due.startswith("2027-05-20#")


def test_engagement_never_moves_backwards(recipient):
    ingest(record("click", recipient))
    older = record("open_human", recipient)
    older["open"]["timestamp"] = "2026-11-01T00:00:00Z"
    assert ingest(older) == {"engaged_stale": 1}
    assert subscribers.get_subscription(recipient, "newsletter").last_engaged_at == datetime(
        2026, 11, 21, 8, 16, tzinfo=UTC
    )


def test_machine_opens_and_scanner_clicks_do_not_count(recipient):
    assert ingest(record("open_apple_mpp", recipient), record("click_scanner", recipient)) == {
        "ignored_machine_open": 1,
        "ignored_scanner_click": 1,
    }
    assert subscribers.get_subscription(recipient, "newsletter").last_engaged_at is None


def test_a_complaint_unsubscribes_from_every_list_at_once(recipient):
    assert ingest(record("complaint", recipient), record("complaint", recipient)) == {
        "complaint": 1,
        "complaint_already": 1,
    }
    assert {s.status for s in subscribers.subscriptions_of(recipient)} == {"unsubscribed"}
    assert {s.sunset_due for s in subscribers.subscriptions_of(recipient)} == {None}
    [event] = [e for e in subscribers.consent_events(recipient) if e.action == "unsubscribe_all"]
    assert event.source == "complaint"


def test_a_permanent_bounce_suppresses_email_on_every_list_and_is_audited_once(recipient):
    ingest(record("bounce_permanent", recipient), record("bounce_permanent", recipient))
    for list_id in ("newsletter", "promo"):
        assert (
            senders.check_recipients(list_id, "email", [{"subscriber_id": recipient}])[0]["reason"]
            == "channel_suppressed"
        )
        assert senders.check_recipients(list_id, "sms", [{"subscriber_id": recipient}])[0]["allowed"] is True
    assert [e.source for e in subscribers.consent_events(recipient) if e.action == "suppress_email"] == ["bounce"]


def test_transient_bounces_are_only_counted(recipient):
    ingest(record("bounce_transient", recipient), record("bounce_transient", recipient))
    assert subscribers.get_profile(recipient).transient_bounces == 2
    assert senders.check_recipients("newsletter", "email", [{"subscriber_id": recipient}])[0]["allowed"] is True


def test_a_malformed_record_is_counted_and_the_rest_of_the_batch_goes_on(recipient):
    outcomes = engagement.ingest(
        ["{not json", sns_message("click", recipient), '{"eventType": "Teleport", "mail": {}}'],
        parse=lambda m: engagement.parse_ses_record(engagement.parse_sns_message(m)),
    )
    assert outcomes == {"malformed": 2, "engaged": 1}


def test_unknown_subscribers_and_lists_change_nothing(recipient):
    stranger = record("click", "sstranger")
    wrong_list = record("click", recipient)
    wrong_list["mail"]["tags"]["offboard-list"] = ["nope"]
    assert ingest(stranger, wrong_list) == {"engaged_stale": 2}
    assert subscribers.get_subscription("sstranger", "newsletter") is None


def test_engagement_after_an_unsubscribe_does_not_resubscribe(recipient):
    subscribers.unsubscribe(recipient, "newsletter", AuditContext("one-click"), datetime(2026, 11, 20, tzinfo=UTC))
    ingest(record("click", recipient))
    stored = subscribers.get_subscription(recipient, "newsletter")
    assert stored.status == "unsubscribed" and stored.sunset_due is None


def test_storage_failures_are_raised_after_the_whole_batch(recipient, monkeypatch):
    calls = []
    real = subscribers.record_engagement

    def flaky(sid, list_id, at, due):
        calls.append(list_id)
        if list_id == "promo":
            raise RuntimeError("throttled")
        return real(sid, list_id, at, due)

    monkeypatch.setattr(subscribers, "record_engagement", flaky)
    promo = record("click", recipient)
    promo["mail"]["tags"]["offboard-list"] = ["promo"]
    with pytest.raises(RuntimeError):
        ingest(promo, record("click", recipient))
    assert calls == ["promo", "newsletter"]
    assert subscribers.get_subscription(recipient, "newsletter").last_engaged_at is not None


def test_member_counters_follow_every_change(recipient):
    assert subscribers.members_of("newsletter") == 1
    ingest(record("complaint", recipient))
    assert subscribers.members_of("newsletter") == 0 and subscribers.members_of("promo") == 0
    join(
        recipient,
        "recipient@example.com",
        "newsletter",
        AuditContext("api"),
        JOINED + timedelta(days=400),
        resubscribe=True,
    )
    assert subscribers.members_of("newsletter") == 1
