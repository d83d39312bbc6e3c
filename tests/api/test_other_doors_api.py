"""The other doors end to end through the app's handlers (chalice.test.Client): SES receiving
notifications on the mailto topic, End User Messaging SMS inbound messages on the SMS topic,
and POST /v1/send-check answering SMS by phone number."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from chalicelib.core.settings import forget_settings
from chalicelib.storage import subscribers
from tests.integration.doors import MAILBOX, inbound_sms, received, sns_event

THAI_NUMBER = "+66812345678"


@pytest.fixture
def mailbox(monkeypatch):
    monkeypatch.setenv("UNSUBSCRIBE_MAILTO", MAILBOX)
    forget_settings()
    yield MAILBOX
    forget_settings()


def sms_check(api, recipients, list_id="newsletter"):
    return api.admin("POST", "/v1/send-check", {"list_id": list_id, "channel": "sms", "recipients": recipients})


def text(number, body, timestamp="2026-11-23T09:00:00.000Z"):
    with Client(app) as client:
        return client.lambda_.invoke("sms_keyword", sns_event(client, inbound_sms(number, body), timestamp))


# Mail.


def test_the_mailto_from_unsubscribe_headers_unsubscribes_when_mailed(api, mailbox):
    response = api.admin("POST", "/v1/unsubscribe-headers", {"email": "alice@example.com", "list_id": "promo"})
    header = response.json_body["headers"]["List-Unsubscribe"]
    mailto = header.split(", ")[1].strip("<>")
    to = mailto.removeprefix("mailto:").partition("?")[0]
    assert to.startswith("unsubscribe+") and len(to.split("@")[0]) <= 64 and "alice" not in to
    with Client(app) as client:
        for _ in range(2):  # SNS delivers at least once: the same mail again is one unsubscribe
            result = client.lambda_.invoke("mailto_unsubscribe", sns_event(client, received(to)))
            assert result.payload is None
    answer = api.allowed("alice@example.com", "promo")
    assert (answer["email"], answer["allowed"], answer["reason"]) == ("alice@example.com", False, "unsubscribed")
    assert api.allowed("alice@example.com", "newsletter")["allowed"] is True
    sid = api.allowed("alice@example.com")["subscriber_id"]
    mine = [e for e in api.events(sid) if e["action"] == "unsubscribe"]
    assert len(mine) == 1 and mine[0]["source"] == "mailto" and mine[0]["list_id"] == "promo"


def test_a_reply_from_a_trusted_sender_to_the_lists_address_unsubscribes_them(api, mailbox):
    with Client(app) as client:
        client.lambda_.invoke(
            "mailto_unsubscribe",
            sns_event(client, received("unsubscribe+newsletter@mail.offboard.test", sender="Bob <bob@example.com>")),
        )
    assert api.allowed("bob@example.com")["reason"] == "unsubscribed"


@pytest.mark.parametrize(
    "mail",
    [
        received("unsubscribe+newsletter@mail.offboard.test", sender="bob@example.com", spf="FAIL", dkim="FAIL"),
        received(
            "unsubscribe+newsletter@mail.offboard.test",
            sender="bob@example.com",
            envelope="x@evil.test",
            dkim_domain="evil.test",
            dmarc="FAIL",
        ),
        received("unsubscribe+k1.aaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb@mail.offboard.test"),
        received("unsubscribe+newsletter@mail.offboard.test", sender="bob@example.com", virus="FAIL"),
        received("unsubscribe+newsletter@mail.offboard.test", sender="nobody@example.com"),
        "{not json",
        "",
    ],
)
def test_spoofed_bad_or_unknown_mail_changes_nothing_and_does_not_fail_the_invocation(api, mailbox, mail):
    with Client(app) as client:
        result = client.lambda_.invoke("mailto_unsubscribe", sns_event(client, mail))
    assert result.payload is None
    assert api.allowed("bob@example.com")["allowed"] is True


# SMS.


def test_stop_by_sms_makes_the_number_not_allowed_and_start_allows_it_again(api):
    [answer] = sms_check(api, [{"phone": THAI_NUMBER}]).json_body["recipients"]
    assert (answer["phone"], answer["allowed"], answer["reason"]) == (THAI_NUMBER, True, "number_not_opted_out")
    assert "subscriber_id" not in answer  # a number alone names no person
    text(THAI_NUMBER, "STOP", "2026-11-23T09:00:00.000Z")
    answer = sms_check(api, [{"phone": "081 234 5678", "region": "th"}, {"phone": "+66 81 234 5679"}])
    assert [(r["phone"], r["allowed"], r["reason"]) for r in answer.json_body["recipients"]] == [
        (THAI_NUMBER, False, "sms_opted_out"),
        ("+66812345679", True, "number_not_opted_out"),
    ]
    text(THAI_NUMBER, "start", "2026-11-23T09:05:00.000Z")
    assert sms_check(api, [{"phone": THAI_NUMBER}]).json_body["recipients"][0]["allowed"] is True


def test_a_stop_delivered_late_never_overrides_a_newer_start(api):
    text(THAI_NUMBER, "หยุด", "2026-11-23T09:00:00.000Z")
    text(THAI_NUMBER, "START", "2026-11-23T09:10:00.000Z")
    text(THAI_NUMBER, "ยกเลิก", "2026-11-23T09:05:00.000Z")  # sent before the START, delivered after
    assert sms_check(api, [{"phone": THAI_NUMBER}]).json_body["recipients"][0]["allowed"] is True


def test_a_number_that_stopped_is_not_allowed_even_for_a_subscribed_person(api):
    text(THAI_NUMBER, "Stop")
    [answer] = sms_check(api, [{"email": "alice@example.com", "phone": THAI_NUMBER}]).json_body["recipients"]
    assert (answer["allowed"], answer["reason"], answer["phone"]) == (False, "sms_opted_out", THAI_NUMBER)
    assert answer["subscriber_id"] == api.allowed("alice@example.com")["subscriber_id"]
    # the person's email is untouched: STOP is SMS only
    assert api.allowed("alice@example.com")["allowed"] is True


def test_a_person_and_a_number_that_did_not_stop_get_the_persons_answer(api):
    [answer] = sms_check(api, [{"email": "alice@example.com", "phone": THAI_NUMBER}]).json_body["recipients"]
    assert (answer["allowed"], answer["reason"]) == (True, "subscribed")
    [answer] = sms_check(api, [{"email": "nobody@example.com", "phone": THAI_NUMBER}]).json_body["recipients"]
    assert (answer["allowed"], answer["reason"]) == (False, "not_subscribed")


def test_help_and_other_texts_change_nothing_and_unreadable_ones_do_not_fail(api):
    for body in ("HELP", "hello", "ช่วยเหลือ"):
        assert text(THAI_NUMBER, body).payload is None
    with Client(app) as client:
        assert client.lambda_.invoke("sms_keyword", sns_event(client, "{not json")).payload is None
    assert sms_check(api, [{"phone": THAI_NUMBER}]).json_body["recipients"][0]["allowed"] is True


def test_the_default_region_reads_numbers_without_a_country_code(api, monkeypatch):
    monkeypatch.setenv("SMS_DEFAULT_REGION", "TH")
    forget_settings()
    try:
        text(THAI_NUMBER, "STOP")
        assert sms_check(api, [{"phone": "0812345678"}]).json_body["recipients"][0]["reason"] == "sms_opted_out"
    finally:
        forget_settings()


@pytest.mark.parametrize(
    ("recipient", "channel"),
    [
        ({"phone": "0812345678"}, "sms"),  # no country code, no region
        ({"phone": "+6681"}, "sms"),
        ({"phone": 66812345678}, "sms"),
        ({"phone": THAI_NUMBER, "region": "Thailand"}, "sms"),
        ({"phone": THAI_NUMBER}, "email"),  # a number is checked on SMS only
    ],
)
def test_a_phone_that_cannot_be_read_is_a_bad_request(api, recipient, channel):
    response = api.admin(
        "POST", "/v1/send-check", {"list_id": "newsletter", "channel": channel, "recipients": [recipient]}
    )
    assert response.status_code == 400 and response.json_body["error"] == "bad_recipient"


def test_send_check_without_phones_answers_as_before(api):
    response = sms_check(api, [{"email": "alice@example.com"}, {"email": "nobody@example.com"}])
    assert [(r["allowed"], r["reason"]) for r in response.json_body["recipients"]] == [
        (True, "subscribed"),
        (False, "not_subscribed"),
    ]
    assert {"email", "subscriber_id", "allowed", "reason"} <= set(response.json_body["recipients"][0])
    assert "phone" not in response.json_body["recipients"][0]
    assert subscribers.sms_opted_out([]) == set()


@pytest.mark.parametrize("field", ["phone", "region"])
def test_every_json_type_in_phone_and_region_is_answered_below_500(api, field):
    from tests.api.test_type_fuzz import HOSTILE

    for value in HOSTILE:
        recipient = {"phone": THAI_NUMBER, "region": "TH", field: value}
        response = sms_check(api, [recipient])
        assert response.status_code in (200, 400), (field, repr(value)[:40], response.status_code)
        if response.status_code == 400:
            assert set(response.json_body) >= {"error", "message"}
