"""Engagement facts applied to subscriptions on moto: duplicates, disorder, complaints, bounces."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.ids import subscriber_id_for
from chalicelib.domain import consent
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


# Issue 9, item 4: display-name recipients.


def untagged(name, recipient, written):
    data = record(name, recipient)
    data["mail"]["tags"] = {}
    data["mail"]["destination"] = [written]
    part, field = (
        ("bounce", "bouncedRecipients") if name.startswith("bounce") else ("complaint", "complainedRecipients")
    )
    data[part][field] = [{"emailAddress": written}]
    return data


def test_a_hard_bounce_for_a_display_name_recipient_suppresses_email(recipient):
    assert ingest(untagged("bounce_permanent", recipient, "John <recipient@example.com>")) == {"hard_bounce": 1}
    assert (
        senders.check_recipients("newsletter", "email", [{"subscriber_id": recipient}])[0]["reason"]
        == "channel_suppressed"
    )


def test_a_complaint_for_a_display_name_recipient_unsubscribes(recipient):
    assert ingest(untagged("complaint", recipient, '"Doe, John" <Recipient@Example.com>')) == {"complaint": 1}
    assert {s.status for s in subscribers.subscriptions_of(recipient)} == {"unsubscribed"}


# Issue 9, item 5: a wrongly typed record is skipped, the others before and after it applied.


def test_a_poison_record_between_good_ones_is_counted_and_the_rest_applied(recipient):
    poison = record("open_human", recipient)
    poison["open"] = "yes"
    wrong_address = record("complaint", recipient)
    wrong_address["complaint"]["complainedRecipients"] = [{"emailAddress": 42}]
    promo = record("click", recipient)
    promo["mail"]["tags"]["offboard-list"] = ["promo"]
    outcomes = ingest(record("click", recipient), poison, wrong_address, promo)
    assert outcomes == {"engaged": 2, "malformed": 2}
    assert all(s.last_engaged_at is not None for s in subscribers.subscriptions_of(recipient))
    assert {s.status for s in subscribers.subscriptions_of(recipient)} == {"active"}


def test_the_engagement_metric_counts_every_record(recipient, monkeypatch):
    counted = []
    monkeypatch.setattr(engagement, "count", lambda name, **dims: counted.append((name, dims["outcome"])))
    ingest(record("click", recipient), "not a record", [], None)
    assert sorted(counted) == [("EngagementRecords", "engaged")] + [("EngagementRecords", "malformed")] * 3


# Issue 9, item 6(a)/(b): machine opens never end a pending sunset.


def pending(recipient):
    subscription = subscribers.get_subscription(recipient, "newsletter")
    subscription.sunset_state = "pending"
    subscription.save()


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0",
        "",
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    ],
)
def test_a_machine_open_leaves_a_pending_sunset_pending(recipient, agent):
    pending(recipient)
    proxy_open = record("open_human", recipient)
    proxy_open["open"]["userAgent"] = agent
    assert ingest(proxy_open) == {"ignored_machine_open": 1}
    stored = subscribers.get_subscription(recipient, "newsletter")
    assert stored.sunset_state == "pending" and stored.last_engaged_at is None


def test_a_human_open_ends_a_pending_sunset(recipient):
    pending(recipient)
    assert ingest(record("open_human", recipient)) == {"engaged": 1}
    assert subscribers.get_subscription(recipient, "newsletter").sunset_state is None


def test_webhook_opens_without_a_user_agent_leave_a_pending_sunset_pending(recipient):
    pending(recipient)
    base = {"type": "open", "subscriber_id": recipient, "list_id": "newsletter", "at": "2026-11-21T08:00:00Z"}
    outcomes = engagement.ingest(
        [base, {**base, "user_agent": "Mozilla/5.0"}, {**base, "machine": True}],
        parse=engagement.parse_webhook_event,
        now=datetime(2026, 11, 22, tzinfo=UTC),
    )
    assert outcomes == {"ignored_machine_open": 3}
    assert subscribers.get_subscription(recipient, "newsletter").sunset_state == "pending"
    human = {**base, "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)"}
    assert engagement.ingest([human], parse=engagement.parse_webhook_event) == {"engaged": 1}
    assert subscribers.get_subscription(recipient, "newsletter").sunset_state is None


# Issue 9, item 6(c)/(d): SES subscription management, tagged or not, audited as its own source.


@pytest.mark.parametrize("tagged", [True, False])
def test_an_ses_subscription_unsubscribe_all_is_audited_as_ses_subscription(recipient, tagged):
    event = record("subscription", recipient)
    if not tagged:
        event["mail"]["tags"] = {"ses:configuration-set": ["offboard-events"]}
        event["mail"]["destination"] = ["Recipient <recipient@example.com>"]
    assert ingest(event, event) == {"unsubscribe_all": 1, "unsubscribe_all_already": 1}
    assert {s.status for s in subscribers.subscriptions_of(recipient)} == {"unsubscribed"}
    [audited] = [e for e in subscribers.consent_events(recipient) if e.action == "unsubscribe_all"]
    assert audited.source == "ses-subscription" and audited.source in consent.SOURCES


# Issue 9, item 6(e): a not-spam report is no complaint; a report without a type is one.


def test_a_not_spam_report_unsubscribes_nobody(recipient):
    report = record("complaint", recipient)
    report["complaint"]["complaintFeedbackType"] = "not-spam"
    assert ingest(report) == {"ignored_not_spam": 1}
    assert {s.status for s in subscribers.subscriptions_of(recipient)} == {"active"}


def test_a_complaint_without_a_feedback_type_unsubscribes(recipient):
    report = record("complaint", recipient)
    del report["complaint"]["complaintFeedbackType"]
    assert ingest(report) == {"complaint": 1}
    assert {s.status for s in subscribers.subscriptions_of(recipient)} == {"unsubscribed"}
