"""The unsubscribe side's input models: the mailto and SMS notifications are read leniently (a
wrongly typed field reads as absent, nothing raises), the send-check body strictly, each refusal
keeping the code it always had, and a list's frequencies as the page will show them."""

import pytest

from chalicelib.core.contracts import validate
from chalicelib.core.errors import Invalid
from chalicelib.unsubscribe.contracts import RECEIVED, Frequencies, SmsInbound
from chalicelib.unsubscribe.senders import read_send_check

WRONG = (None, True, 0, 1e308, "", "x" * 5000, [], {}, [[[]]], {"a": {"b": 1}})


@pytest.mark.parametrize("value", WRONG)
def test_a_received_notification_reads_any_wrong_field_as_absent(value):
    for field in ("notificationType", "mail", "receipt"):
        notification = RECEIVED.validate_python({"notificationType": "Received", field: value})
        assert notification.receipt.recipients == [] or field != "receipt"
    receipt = {"recipients": value, "dmarcVerdict": value, "spfVerdict": {"status": value}}
    notification = RECEIVED.validate_python({"receipt": receipt, "mail": {"commonHeaders": {"from": value}}})
    assert notification.receipt.dmarcVerdict.status is None  # a verdict is an object
    assert notification.receipt.spfVerdict.status == (value.upper() if isinstance(value, str) else None)
    assert notification.mail.commonHeaders.sender == ([value] if isinstance(value, str) and len(value) <= 320 else [])


def test_a_received_notification_keeps_the_addresses_it_can_read_and_upper_cases_verdicts():
    notification = RECEIVED.validate_python(
        {
            "notificationType": "Received",
            "receipt": {"recipients": ["a@x.test", 5, "b" * 321, "c@x.test"], "dmarcVerdict": {"status": "pass"}},
            "mail": {"destination": "d@x.test", "commonHeaders": {"from": ["e@x.test", "f@x.test", "g@x.test"]}},
        }
    )
    assert notification.receipt.recipients == ["a@x.test", "c@x.test"]
    assert notification.receipt.dmarcVerdict.status == "PASS"
    assert notification.mail.destination == ["d@x.test"]
    assert notification.mail.commonHeaders.sender == ["e@x.test", "f@x.test"]  # two read: "not one sender"


@pytest.mark.parametrize("text", ["", "{not json", "[" * 100_000 + "]" * 100_000])
def test_a_notification_that_is_not_json_is_refused_as_a_whole(text):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        RECEIVED.validate_json(text)
    with pytest.raises(ValidationError):
        SmsInbound.model_validate_json(text)


def test_an_sms_message_reads_wrong_fields_as_absent():
    inbound = SmsInbound.model_validate({"originationNumber": 66812345678, "messageBody": ["STOP"], "x": 1})
    assert inbound.originationNumber is None and inbound.messageBody is None


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"recipients": [{"email": "a@b.co"}]}, "bad_list", "list_id"),
        ({"list_id": 5, "recipients": [{"email": "a@b.co"}]}, "bad_list", "list_id"),
        ({"list_id": "n", "channel": None, "recipients": [{"email": "a@b.co"}]}, "bad_channel", "channel"),
        ({"list_id": "n", "recipients": {"email": "a@b.co"}}, "bad_batch", "recipients"),
        ({"list_id": "n", "recipients": [{"email": 5}]}, "bad_recipient", "recipients[0].email"),
        ({"list_id": "n", "recipients": [{"subscriber_id": "../x"}]}, "bad_recipient", "recipients[0].subscriber_id"),
        ({"list_id": "n", "recipients": [{}, {"region": "T1"}]}, "bad_recipient", "recipients[1].region"),
    ],
)
def test_a_send_check_refusal_keeps_its_code_and_names_the_field(body, code, field):
    with pytest.raises(Invalid) as error:
        read_send_check(body)
    assert error.value.code == code and error.value.message.startswith(field)


def test_a_send_check_recipient_keeps_the_fields_the_sender_added():
    asked = read_send_check({"list_id": "n", "recipients": [{"email": "a@b.co", "order": 7}], "note": "ignored"})
    assert asked.channel == "email"
    assert asked.recipients[0].model_dump(exclude_unset=True) == {"email": "a@b.co", "order": 7}


def test_frequencies_are_stored_trimmed_with_labels_only_when_given():
    body = {"frequencies": [{"id": "weekly", "label": " Weekly "}, {"id": "monthly", "label": "M", "labels": {}}]}
    assert validate(Frequencies, body, "bad_frequencies").as_stored() == [
        {"id": "weekly", "label": "Weekly"},
        {"id": "monthly", "label": "M"},
    ]
    body = {"frequencies": [{"id": "weekly", "label": "W", "labels": {"th": " รายสัปดาห์ "}}]}
    assert validate(Frequencies, body, "bad_frequencies").as_stored()[0]["labels"] == {"th": "รายสัปดาห์"}


def test_a_frequency_given_twice_is_named():
    body = {"frequencies": [{"id": "weekly", "label": "a"}, {"id": "weekly", "label": "b"}]}
    with pytest.raises(Invalid, match="weekly is given twice"):
        validate(Frequencies, body, "bad_frequencies")


@pytest.mark.parametrize(("given", "resubscribes"), [(True, True), (False, False)])
def test_only_the_json_true_resubscribes_someone_who_left(given, resubscribes):
    from chalicelib.unsubscribe.contracts import NewSubscriber

    new = validate(NewSubscriber, {"email": "a@example.com", "resubscribe": given}, "bad_email")
    assert new.resubscribe is resubscribes


@pytest.mark.parametrize("given", ["yes", 1, None, "true", [], {}])
def test_a_resubscribe_that_is_no_json_boolean_is_refused_not_read_as_no(given):
    from chalicelib.unsubscribe.contracts import NewSubscriber

    with pytest.raises(Invalid, match="resubscribe"):
        validate(NewSubscriber, {"email": "a@example.com", "resubscribe": given}, "bad_email")


@pytest.mark.parametrize("body", [{}, {"email": 5}, {"email": ["a@example.com"]}, {"email": "a" * 321}])
def test_a_new_subscriber_without_an_address_is_bad_email(body):
    from chalicelib.unsubscribe.contracts import NewSubscriber

    with pytest.raises(Invalid) as error:
        validate(NewSubscriber, body, "bad_email")
    assert error.value.code == "bad_email" and error.value.message.startswith("email")
