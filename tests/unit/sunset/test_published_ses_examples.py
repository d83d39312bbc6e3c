"""Amazon SES's own published examples (tests/fixtures/ses/aws/README.md says where each comes
from), in both shapes: event publishing (`eventType`) and feedback notifications
(`notificationType`), each parsed to the fact it should be."""

import json
from datetime import datetime

import pytest

from chalicelib.core.ids import addresses_in, subscriber_id_for
from chalicelib.sunset import engagement
from tests.helpers import FIXTURES

AWS = FIXTURES / "aws"
TAGS = {"offboard-subscriber": ["sTAGGED"], "offboard-list": ["newsletter"]}


def example(path: str, tagged: bool = False) -> dict:
    data = json.loads((AWS / path).read_text())
    if tagged:
        data["mail"].setdefault("tags", {}).update(TAGS)
    return data


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def sid(settings):
    return lambda address: subscriber_id_for(settings.subscriber_id_key, address)


def test_every_published_example_is_here():
    assert sorted(str(p.relative_to(AWS)) for p in AWS.rglob("*.json")) == sorted(
        [f"event-publishing/{n}.json" for n in EVENT_PUBLISHING]
        + [f"notifications/{n}.json" for n in NOTIFICATIONS]
        + [f"display-name/{n}.json" for n in ("bounce", "complaint", "subscription")]
    )


EVENT_PUBLISHING = (
    "bounce",
    "complaint",
    "delivery",
    "send",
    "reject",
    "open",
    "click",
    "rendering_failure",
    "delivery_delay",
    "subscription",
)
NOTIFICATIONS = (
    "bounce_with_dsn",
    "bounce_without_dsn",
    "complaint_with_feedback_report",
    "complaint_without_feedback_report",
    "delivery",
)


def test_event_publishing_examples_as_published(sid):
    """No tags of ours: what needs a tag (sends, engagement) is ignored, the rest finds the
    subscriber by address."""
    recipient = sid("recipient@example.com")
    expected = {
        "bounce": [engagement.Fact("hard_bounce", recipient, None, at("2017-08-05T00:41:02.669Z"))],
        "complaint": [engagement.Fact("complaint", recipient, None, at("2017-08-05T00:41:02.669Z"))],
        "delivery": [engagement.Fact("ignored", why="untagged")],
        "send": [engagement.Fact("ignored", why="untagged")],
        "reject": [engagement.Fact("ignored", why="reject")],
        "open": [engagement.Fact("ignored", why="untagged")],
        "click": [engagement.Fact("ignored", why="untagged")],
        "rendering_failure": [engagement.Fact("ignored", why="rendering_failure")],
        "delivery_delay": [engagement.Fact("ignored", why="deliverydelay")],
        # SES's list management needs no tags of ours: matched by the destination address.
        "subscription": [engagement.Fact("unsubscribe_all", recipient, None, at("2022-01-12T01:00:17.910Z"))],
    }
    for name in EVENT_PUBLISHING:
        assert engagement.parse_ses_record(example(f"event-publishing/{name}.json")) == expected[name], name


def test_event_publishing_examples_with_our_tags():
    expected = {
        "delivery": [
            engagement.Fact(
                "sent",
                "sTAGGED",
                "newsletter",
                at("2016-10-19T23:20:52.240Z"),
                "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
            )
        ],
        "send": [
            engagement.Fact(
                "sent",
                "sTAGGED",
                "newsletter",
                at("2016-10-14T05:02:16.645Z"),
                "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000",
            )
        ],
        # An iPhone's Mail (not the bare `Mozilla/5.0` of Privacy Protection): a person's open.
        "open": [engagement.Fact("engaged", "sTAGGED", "newsletter", at("2017-08-09T22:00:19.652Z"))],
        # 80 s after sending: no link scanner.
        "click": [engagement.Fact("engaged", "sTAGGED", "newsletter", at("2017-08-09T23:51:25.570Z"))],
        "subscription": [engagement.Fact("unsubscribe_all", "sTAGGED", "newsletter", at("2022-01-12T01:00:17.910Z"))],
    }
    for name, facts in expected.items():
        assert engagement.parse_ses_record(example(f"event-publishing/{name}.json", tagged=True)) == facts, name


def test_notification_examples(sid):
    when = at("2016-01-27T14:59:38.237Z")
    jane, richard = sid("jane@example.com"), sid("richard@example.com")
    expected = {
        "bounce_with_dsn": [engagement.Fact("hard_bounce", jane, None, when)],
        "bounce_without_dsn": [
            engagement.Fact("hard_bounce", jane, None, when),
            engagement.Fact("hard_bounce", richard, None, when),
        ],
        "complaint_with_feedback_report": [engagement.Fact("complaint", richard, None, when)],
        # No feedback report, so no complaintFeedbackType: still a complaint.
        "complaint_without_feedback_report": [engagement.Fact("complaint", richard, None, when)],
        # Notifications set on the identity never carry tags.
        "delivery": [engagement.Fact("ignored", why="untagged")],
    }
    for name in NOTIFICATIONS:
        assert engagement.parse_ses_record(example(f"notifications/{name}.json")) == expected[name], name


def test_display_name_examples(sid):
    assert engagement.parse_ses_record(example("display-name/bounce.json")) == [
        engagement.Fact("hard_bounce", sid("jane@example.com"), None, at("2016-01-27T14:59:38.237Z")),
        engagement.Fact("hard_bounce", sid("richard@example.com"), None, at("2016-01-27T14:59:38.237Z")),
    ]
    assert engagement.parse_ses_record(example("display-name/complaint.json")) == [
        engagement.Fact("complaint", sid("recipient@example.com"), None, at("2017-08-05T00:41:02.669Z"))
    ]
    assert engagement.parse_ses_record(example("display-name/subscription.json")) == [
        engagement.Fact("unsubscribe_all", sid("recipient@example.com"), None, at("2022-01-12T01:00:17.910Z"))
    ]


def test_the_published_to_header_lists_several_people_in_one_string():
    """commonHeaders.to as the notification examples write it: one string, three addresses."""
    [to] = example("notifications/bounce_with_dsn.json")["mail"]["commonHeaders"]["to"]
    assert addresses_in(to) == ["jane@example.com", "mary@example.com", "richard@example.com"]


def test_an_sns_message_is_the_record_as_a_json_string(sid):
    message = json.dumps(example("notifications/complaint_with_feedback_report.json"))
    assert engagement.parse_sns_record(message) == [
        engagement.Fact("complaint", sid("richard@example.com"), None, at("2016-01-27T14:59:38.237Z"))
    ]
