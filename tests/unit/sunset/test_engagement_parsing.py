"""Every SES record type, parsed into what it means for a subscription."""

from datetime import UTC, datetime

import pytest

from chalicelib.core.errors import NotAuthenticated
from chalicelib.core.ids import subscriber_id_for
from chalicelib.sunset import engagement
from tests.helpers import RECORD_TYPES, record


@pytest.fixture
def recipient(settings):
    return subscriber_id_for(settings.subscriber_id_key, "recipient@example.com")


@pytest.mark.parametrize(
    "name, kind, why",
    [
        ("send", "sent", None),
        ("delivery", "sent", None),
        ("open_human", "engaged", None),
        ("open_apple_mpp", "ignored", "machine_open"),
        ("click", "engaged", None),
        ("click_scanner", "ignored", "scanner_click"),
        ("bounce_permanent", "hard_bounce", None),
        ("bounce_transient", "soft_bounce", None),
        ("complaint", "complaint", None),
        ("reject", "ignored", "reject"),
        ("rendering_failure", "ignored", "rendering_failure"),
        ("delivery_delay", "ignored", "deliverydelay"),
        ("subscription", "unsubscribe_all", None),
    ],
)
def test_each_record_type(name, kind, why, recipient):
    [fact] = engagement.parse_ses_record(record(name, recipient))
    assert (fact.kind, fact.why) == (kind, why)
    if kind not in ("ignored",):
        assert fact.subscriber_id == recipient


def test_every_fixture_is_covered():
    assert len(RECORD_TYPES) == 13


def test_send_and_delivery_share_the_message_id_so_they_count_once(recipient):
    [send] = engagement.parse_ses_record(record("send", recipient))
    [delivery] = engagement.parse_ses_record(record("delivery", recipient))
    assert send.message_id == delivery.message_id and send.list_id == "newsletter"


def test_engagement_takes_the_time_of_the_open_or_click(recipient):
    [click] = engagement.parse_ses_record(record("click", recipient))
    assert click.at == datetime(2026, 11, 21, 8, 16, tzinfo=UTC)


def test_complaints_and_bounces_find_the_subscriber_by_address_without_tags(recipient):
    untagged = record("complaint", "x")
    untagged["mail"]["tags"] = {}
    [fact] = engagement.parse_ses_record(untagged)
    assert fact.subscriber_id == recipient and fact.kind == "complaint"


def test_untagged_engagement_is_ignored_not_guessed(recipient):
    untagged = record("click", recipient)
    untagged["mail"]["tags"] = {"offboard-subscriber": ["../../x"]}
    assert engagement.parse_ses_record(untagged)[0].why == "untagged"


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        {"eventType": "Click"},
        {"eventType": "Teleport", "mail": {}},
        {"eventType": "Click", "mail": {}, "click": {"timestamp": "yesterday"}},
    ],
)
def test_malformed_records_raise_bad_record(bad):
    with pytest.raises(engagement.BadRecord):
        engagement.parse_ses_record(bad)


def test_webhook_signatures():
    body, secret = b'{"events": []}', b"s" * 32
    import hashlib
    import hmac

    good = "sha256=" + hmac.new(secret, b"1000." + body, hashlib.sha256).hexdigest()
    engagement.verify_webhook(body, "1000", good, secret, now=1100)
    for timestamp, signature, now in (
        ("1000", good, 1400),
        ("1000", good.replace("a", "b"), 1000),
        ("x", good, 1000),
        ("1000", None, 1000),
        ("9" * 310, good, 1000),  # float(now) - a 310-digit int overflowed: a 500 before the signature
        ("\u0661\u0660\u0660\u0660", good, 1000),  # Arabic-Indic digits: int() reads them
        ("", good, 1000),
        ("1000", "sha256=\u00e9", 1000),  # compare_digest raised TypeError on non-ASCII text
    ):
        with pytest.raises(NotAuthenticated):
            engagement.verify_webhook(body, timestamp, signature, secret, now=now)
    with pytest.raises(NotAuthenticated):
        engagement.verify_webhook(body + b" ", "1000", good, secret, now=1000)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "click", "subscriber_id": "s1", "at": "2026-11-21T00:00:00Z"},
        {"type": "send", "subscriber_id": "s1", "list_id": "l", "at": "2026-11-21T00:00:00Z"},
        {"type": "wave", "subscriber_id": "s1", "list_id": "l", "at": "2026-11-21T00:00:00Z"},
        {"type": "click", "email": "nope", "list_id": "l", "at": "2026-11-21T00:00:00Z"},
        {"type": "click", "subscriber_id": "s1", "list_id": "l", "at": "soon"},
        "click",
    ],
)
def test_bad_webhook_events(event):
    with pytest.raises(engagement.BadRecord):
        engagement.parse_webhook_event(event)


# Issue 9, item 4: recipients written with a display name, as SES echoes them.


def untagged(name: str, recipient: str) -> dict:
    data = record(name, recipient)
    data["mail"]["tags"] = {"ses:configuration-set": ["offboard-events"]}
    return data


@pytest.mark.parametrize(
    "written",
    [
        "John <recipient@example.com>",
        '"Doe, John" <Recipient@Example.com>',
        "=?utf-8?q?J=C3=B6rg?= <recipient@example.com>",
        "<recipient@example.com>",
        "recipient@example.com (John)",
    ],
)
@pytest.mark.parametrize(
    "name, part, field, kind",
    [
        ("bounce_permanent", "bounce", "bouncedRecipients", "hard_bounce"),
        ("complaint", "complaint", "complainedRecipients", "complaint"),
    ],
)
def test_display_name_recipients_are_matched(name, part, field, kind, written, recipient):
    data = untagged(name, recipient)
    data[part][field] = [{"emailAddress": written}]
    assert engagement.parse_ses_record(data) == [
        engagement.Fact(kind, recipient, None, datetime.fromisoformat(data[part]["timestamp"]))
    ]


@pytest.mark.parametrize(
    "written",
    [
        "alice@example.org)<recipient@example.com>",  # the stdlib's CVE-2023-27043 shape: two readings
        "recipient@example.com\r\nBcc: other@example.com",
        "John <recipient@example.com>, Mary <mary@example.com>",
        "John recipient@example.com",
        "x" * 5000 + " <recipient@example.com>",
    ],
)
def test_recipients_that_are_not_exactly_one_clean_address_match_nobody(written, recipient):
    data = untagged("bounce_permanent", recipient)
    data["bounce"]["bouncedRecipients"] = [{"emailAddress": written}]
    assert engagement.parse_ses_record(data) == [engagement.Fact("ignored", why="untagged")]


def test_the_webhook_takes_an_email_with_a_display_name(recipient):
    event = {"type": "complaint", "email": "John <Recipient@example.com>", "at": "2026-11-21T00:00:00Z"}
    assert engagement.parse_webhook_event(event)[0].subscriber_id == recipient


# Issue 9, item 6(a): machine opens never count as engagement.


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0",  # Apple Mail Privacy Protection
        "",
        "   ",
        None,
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",  # Gmail
        "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",  # Yahoo
    ],
)
def test_machine_opens_are_ignored(agent, recipient):
    data = record("open_human", recipient)
    if agent is None:
        del data["open"]["userAgent"]
    else:
        data["open"]["userAgent"] = agent
    assert engagement.parse_ses_record(data) == [engagement.Fact("ignored", why="machine_open")]


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    ],
)
def test_human_opens_count(agent, recipient):
    data = record("open_human", recipient)
    data["open"]["userAgent"] = agent
    assert [fact.kind for fact in engagement.parse_ses_record(data)] == ["engaged"]


# Issue 9, item 6(b): the webhook's opens say whose they are.

OPEN = {"type": "open", "subscriber_id": "s1", "list_id": "newsletter", "at": "2026-11-21T00:00:00Z"}


@pytest.mark.parametrize(
    "extra, kind",
    [
        ({}, "ignored"),  # no user agent, no flag: like SES's opens without a user agent
        ({"user_agent": ""}, "ignored"),
        ({"user_agent": "Mozilla/5.0"}, "ignored"),
        ({"user_agent": "Mozilla/5.0 (via ggpht.com GoogleImageProxy)"}, "ignored"),
        ({"user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)"}, "engaged"),
        ({"machine": True}, "ignored"),
        ({"machine": True, "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)"}, "ignored"),
        ({"machine": False}, "engaged"),  # the sender vouches for it
        ({"machine": False, "user_agent": "Mozilla/5.0"}, "engaged"),
    ],
)
def test_webhook_opens_count_only_when_they_are_a_persons(extra, kind):
    [fact] = engagement.parse_webhook_event({**OPEN, **extra})
    assert fact.kind == kind and (fact.why == "machine_open") == (kind == "ignored")


@pytest.mark.parametrize("extra", [{"machine": "no"}, {"machine": 0}, {"user_agent": 5}, {"user_agent": "x" * 5000}])
def test_webhook_open_fields_are_typed(extra):
    with pytest.raises(engagement.BadRecord):
        engagement.parse_webhook_event({**OPEN, **extra})


# Issue 9, item 6(c): untagged Subscription events are matched by the recipient's address.


def test_an_untagged_subscription_event_is_matched_by_its_destination(recipient):
    data = untagged("subscription", recipient)
    data["mail"]["destination"] = ["John <Recipient@example.com>"]
    [fact] = engagement.parse_ses_record(data)
    assert (fact.kind, fact.subscriber_id, fact.at) == (
        "unsubscribe_all",
        recipient,
        datetime(2026, 11, 21, 9, 30, tzinfo=UTC),
    )


def test_an_untagged_subscription_event_falls_back_to_the_to_header(recipient):
    data = untagged("subscription", recipient)
    del data["mail"]["destination"]
    data["mail"]["commonHeaders"]["to"] = ["Recipient <recipient@example.com>"]
    assert engagement.parse_ses_record(data)[0].subscriber_id == recipient


def test_an_untagged_subscription_event_for_several_recipients_is_not_guessed(recipient):
    data = untagged("subscription", recipient)
    data["mail"]["destination"] = ["recipient@example.com", "other@example.com"]
    assert engagement.parse_ses_record(data) == [engagement.Fact("ignored", why="ambiguous_recipient")]


def test_a_subscription_event_that_keeps_the_contact_changes_nothing(recipient):
    data = record("subscription", recipient)
    data["subscription"]["newTopicPreferences"]["unsubscribeAll"] = False
    assert engagement.parse_ses_record(data) == [engagement.Fact("ignored", why="subscription_change")]


# Issue 9, item 6(e): what a complaint's feedback type means.


@pytest.mark.parametrize(
    "feedback, kind",
    [
        ("abuse", "complaint"),
        ("fraud", "complaint"),
        ("other", "complaint"),
        (None, "complaint"),  # most ISPs send no type (AWS): still a complaint
        ("not-spam", "ignored"),
        ("Not-Spam", "ignored"),
    ],
)
def test_a_not_spam_report_is_no_complaint(feedback, kind, recipient):
    data = record("complaint", recipient)
    if feedback is None:
        del data["complaint"]["complaintFeedbackType"]
    else:
        data["complaint"]["complaintFeedbackType"] = feedback
    [fact] = engagement.parse_ses_record(data)
    assert fact.kind == kind and fact.why == (None if kind == "complaint" else "not_spam")


# Issue 9, item 5: wrongly typed fields make one record malformed, nothing else.


@pytest.mark.parametrize(
    "name, path, value",
    [
        ("open_human", ("open",), "yes"),
        ("open_human", ("open", "userAgent"), {"a": 1}),
        ("open_human", ("open", "timestamp"), None),
        ("click", ("click",), []),
        ("click", ("mail", "timestamp"), 1e308),
        ("complaint", ("complaint", "complainedRecipients"), 5),
        ("complaint", ("complaint", "complainedRecipients", 0, "emailAddress"), 42),
        ("complaint", ("complaint", "complaintFeedbackType"), ["abuse"]),
        ("bounce_permanent", ("bounce",), "Permanent"),
        ("bounce_permanent", ("bounce", "bounceType"), {}),
        ("send", ("mail", "tags"), ["offboard-subscriber"]),
        ("send", ("mail", "tags", "offboard-list"), {"x": 1}),
        ("send", ("mail", "messageId"), "m" * 1000),
        ("send", ("mail", "timestamp"), "9999-12-31T23:59:59Z"),
        ("subscription", ("subscription", "newTopicPreferences", "unsubscribeAll"), "yes"),
        ("delivery", ("eventType",), 7),
    ],
)
def test_wrongly_typed_fields_are_bad_records(name, path, value, recipient):
    data = record(name, recipient)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(engagement.BadRecord):
        engagement.parse_ses_record(data)


def test_ses_sends_a_test_message_when_a_topic_is_set_up():
    setup = {"notificationType": "AmazonSnsSubscriptionSucceeded", "message": "You have successfully subscribed"}
    assert engagement.parse_ses_record(setup) == [engagement.Fact("ignored", why="setup_notification")]
