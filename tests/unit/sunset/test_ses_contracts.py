"""SES records read through their event type's model (`sunset.contracts.SesRecord`): a malformed
record is named by the field at fault (never its values), and a field an event type does not
read, or reads only as a fallback, never makes a good record malformed."""

import pytest

from chalicelib.core.ids import subscriber_id_for
from chalicelib.sunset import engagement
from chalicelib.sunset.contracts import SES_RECORD, SesComplaint, SesSend, SesSetup
from tests.helpers import record


@pytest.fixture
def recipient(settings):
    return subscriber_id_for(settings.subscriber_id_key, "recipient@example.com")


def test_each_event_type_gets_its_own_model(recipient):
    assert isinstance(SES_RECORD.validate_python(record("send", recipient)), SesSend)
    assert isinstance(SES_RECORD.validate_python(record("delivery", recipient)), SesSend)
    assert isinstance(SES_RECORD.validate_python(record("complaint", recipient)), SesComplaint)
    setup = {"notificationType": "AmazonSnsSubscriptionSucceeded"}
    assert isinstance(SES_RECORD.validate_python(setup), SesSetup)


@pytest.mark.parametrize(
    ("name", "path", "value", "named"),
    [
        ("open_human", ("open", "timestamp"), 5, "open.timestamp"),
        ("click", ("click", "timestamp"), "yesterday", "click.timestamp"),
        ("complaint", ("complaint", "complainedRecipients", 0, "emailAddress"), 42, "emailAddress"),
        ("bounce_permanent", ("bounce", "bounceType"), "x" * 65, "bounce.bounceType"),
        ("send", ("mail", "messageId"), "m" * 201, "mail.messageId"),
        ("send", ("mail", "tags", "offboard-list"), [7], "offboard-list"),
    ],
)
def test_a_malformed_record_names_the_field_and_never_its_value(name, path, value, named, recipient):
    data = record(name, recipient)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(engagement.BadRecord) as error:
        engagement.parse_ses_record(data)
    assert named in str(error.value)
    assert str(value)[:20] not in str(error.value) and "recipient@example.com" not in str(error.value)


@pytest.mark.parametrize("bad", [None, 7, {"a": 1}, "not an address"])
def test_a_complaint_with_its_own_timestamp_counts_whatever_the_mail_timestamp_holds(bad, recipient):
    """The mail's time is only the fallback of the complaint's own: a broken one must not drop
    the strongest opt-out there is."""
    data = record("complaint", recipient)
    data["complaint"]["timestamp"] = "2026-11-20T10:05:00.000Z"
    data["mail"]["timestamp"] = bad
    [fact] = engagement.parse_ses_record(data)
    assert fact.kind == engagement.Kind.COMPLAINT and fact.subscriber_id == recipient


def test_a_complaint_without_any_time_it_can_read_is_malformed(recipient):
    data = record("complaint", recipient)
    data["complaint"].pop("timestamp", None)
    data["mail"]["timestamp"] = "yesterday"
    with pytest.raises(engagement.BadRecord, match="complaint.timestamp"):
        engagement.parse_ses_record(data)


def test_a_tagged_subscription_event_never_reads_the_addresses(recipient):
    data = record("subscription", recipient)
    data["mail"]["tags"] = {"offboard-subscriber": [recipient], "offboard-list": ["newsletter"]}
    data["mail"]["destination"] = {"not": "a list"}
    data["mail"]["commonHeaders"] = 5
    [fact] = engagement.parse_ses_record(data)
    assert fact.kind == engagement.Kind.UNSUBSCRIBE_ALL and fact.subscriber_id == recipient


def test_an_untagged_subscription_event_with_unreadable_addresses_is_malformed(recipient):
    data = record("subscription", recipient)
    data["mail"]["tags"] = {}
    data["mail"]["destination"] = [5]
    with pytest.raises(engagement.BadRecord, match="mail.destination"):
        engagement.parse_ses_record(data)


def test_an_untagged_send_is_ignored_without_reading_its_time(recipient):
    data = record("send", recipient)
    data["mail"]["tags"] = {}
    data["mail"]["timestamp"] = "yesterday"
    assert engagement.parse_ses_record(data) == [engagement.Fact(engagement.Kind.IGNORED, why="untagged")]


def test_fields_ses_adds_later_are_ignored(recipient):
    data = record("click", recipient)
    data["click"]["somethingNew"] = {"nested": [1, 2]}
    data["mail"]["anotherNewField"] = True
    [fact] = engagement.parse_ses_record(data)
    assert fact.kind == engagement.Kind.ENGAGED
