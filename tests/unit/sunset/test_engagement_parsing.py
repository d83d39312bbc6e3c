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
