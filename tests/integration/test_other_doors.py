"""Opt-outs through the other doors against moto's DynamoDB: SMS keywords on a number's profile
(out-of-order delivery, repeats) and mails to the unsubscribe mailbox (tokens, trusted senders),
each in the consent trail with its source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.ids import subscriber_id_for
from chalicelib.core.settings import forget_settings
from chalicelib.domain import consent
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext
from chalicelib.unsubscribe import mailto, sms
from chalicelib.unsubscribe.headers import mailto_uri
from tests.helpers import join
from tests.integration.doors import MAILBOX, inbound_sms, received

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEYWORD = AuditContext("sms-keyword")
NUMBER = "p" + "a" * 24


def trail(sid):
    return [(e.action, e.list_id, e.source) for e in subscribers.consent_events(sid)]


# SMS opt-out and resume on a number's profile.


def test_stop_suppresses_sms_once_and_records_it_with_its_source(aws):
    first = subscribers.sms_opt_out(NUMBER, NOW, KEYWORD, NOW)
    again = subscribers.sms_opt_out(NUMBER, NOW + timedelta(minutes=1), KEYWORD, NOW)
    assert first.applied and not again.applied
    assert subscribers.sms_opted_out([NUMBER, "p" + "b" * 24]) == {NUMBER}
    assert trail(NUMBER) == [("suppress_sms", "*", "sms-keyword")]
    assert subscribers.get_event(NUMBER, first.event_key).at == NOW
    assert subscribers.sms_profile(NUMBER).sms_keyword_at == NOW + timedelta(minutes=1)


def test_start_resumes_sms_only_and_a_repeat_changes_nothing(aws):
    subscribers.sms_opt_out(NUMBER, NOW, KEYWORD, NOW)
    assert subscribers.sms_resume(NUMBER, NOW + timedelta(seconds=1), KEYWORD, NOW).applied
    assert not subscribers.sms_resume(NUMBER, NOW + timedelta(seconds=2), KEYWORD, NOW).applied
    assert subscribers.sms_opted_out([NUMBER]) == set()
    assert [a for a, _, _ in trail(NUMBER)] == ["suppress_sms", "resume_sms"]


def test_a_start_sent_before_a_stop_but_delivered_after_it_never_overrides_it(aws):
    stop_at, start_at = NOW + timedelta(seconds=30), NOW
    assert subscribers.sms_opt_out(NUMBER, stop_at, KEYWORD, NOW).applied
    assert not subscribers.sms_resume(NUMBER, start_at, KEYWORD, NOW).applied
    assert subscribers.sms_opted_out([NUMBER]) == {NUMBER}


def test_an_old_stop_delivered_after_a_newer_repeat_stop_and_a_start_stays_without_effect(aws):
    # STOP (t0), STOP again (t2) while stopped, START (t3); then a STOP from t1 arrives late.
    subscribers.sms_opt_out(NUMBER, NOW, KEYWORD, NOW)
    subscribers.sms_opt_out(NUMBER, NOW + timedelta(seconds=2), KEYWORD, NOW)
    assert subscribers.sms_resume(NUMBER, NOW + timedelta(seconds=3), KEYWORD, NOW).applied
    assert not subscribers.sms_opt_out(NUMBER, NOW + timedelta(seconds=1), KEYWORD, NOW).applied
    assert subscribers.sms_opted_out([NUMBER]) == set()


def test_a_resume_for_a_number_that_never_stopped_records_nothing(aws):
    assert not subscribers.sms_resume(NUMBER, NOW, KEYWORD, NOW).applied
    assert trail(NUMBER) == []


def test_the_sms_keyword_handler_keys_the_number_by_its_hmac_and_never_stores_it(aws, settings):
    outcome = sms.handle(inbound_sms("+66812345678", "หยุด"), "2026-11-23T09:00:00.000Z")
    assert outcome == "opted_out"
    number_id = sms.phone_id(settings.subscriber_id_key, "+66812345678")
    profile = subscribers.sms_profile(number_id)
    assert profile.suppressed_channels == {"sms"} and profile.email is None
    assert "66812345678" not in str(profile.serialize()) and "66812345678" not in str(trail(number_id))


@pytest.mark.parametrize("message", ["{not json", "[]", '"STOP"', "{}", '{"messageBody": "STOP"}'])
def test_unreadable_sms_messages_are_dropped(aws, message):
    assert sms.handle(message, None) in ("malformed", "other")


# Mails to the unsubscribe mailbox.


@pytest.fixture
def people(aws, monkeypatch, settings):
    monkeypatch.setenv("UNSUBSCRIBE_MAILTO", MAILBOX)
    forget_settings()
    lists.create_list("newsletter", "Newsletter")
    lists.create_list("promo", "Promotions")
    sids = {}
    for address in ("alice@example.com", "bob@example.com"):
        sids[address] = subscriber_id_for(settings.subscriber_id_key, address)
        for list_id in ("newsletter", "promo"):
            join(sids[address], address, list_id, AuditContext("api"), NOW)
    yield sids
    forget_settings()


def _address(uri: str) -> str:
    return uri.removeprefix("mailto:").partition("?")[0]


def test_a_mail_to_the_tokened_address_unsubscribes_that_list_only_with_source_mailto(people):
    from chalicelib.core.settings import get_settings

    alice = people["alice@example.com"]
    to = _address(mailto_uri(get_settings(), alice, "promo"))
    # The token is the credential: the mail may come from anywhere (a provider's own servers).
    outcomes = mailto.handle(received(to, sender="noreply@google.test", spf="FAIL", dkim="FAIL", dmarc="FAIL"))
    assert outcomes == {"unsubscribed": 1}
    assert subscribers.get_subscription(alice, "promo").status == consent.UNSUBSCRIBED
    assert subscribers.get_subscription(alice, "newsletter").status == consent.ACTIVE
    [event] = [e for e in subscribers.consent_events(alice) if e.action == "unsubscribe"]
    assert (event.source, event.list_id, event.key_id) == ("mailto", "promo", "k1")


def test_the_same_mail_twice_is_one_unsubscribe(people):
    from chalicelib.core.settings import get_settings

    alice = people["alice@example.com"]
    mail = received(_address(mailto_uri(get_settings(), alice, "promo")))
    assert mailto.handle(mail) == {"unsubscribed": 1}
    assert mailto.handle(mail) == {"already_unsubscribed": 1}
    assert [a for a, _, _ in trail(alice)].count("unsubscribe") == 1


def test_a_full_token_in_the_subject_unsubscribes_too(people):
    from chalicelib.core.settings import get_settings
    from chalicelib.unsubscribe.headers import unsubscribe_url

    bob = people["bob@example.com"]
    token = unsubscribe_url(get_settings(), bob, "newsletter", "spring").rsplit("/", 1)[1]
    assert mailto.handle(received(MAILBOX, subject=f"Re: unsubscribe {token}", spf="FAIL", dkim="FAIL")) == {
        "unsubscribed": 1
    }
    [event] = [e for e in subscribers.consent_events(bob) if e.action == "unsubscribe"]
    assert (event.source, event.campaign_id) == ("mailto", "spring")


def test_without_a_token_a_trusted_known_sender_leaves_the_list_the_address_names(people):
    alice = people["alice@example.com"]
    assert mailto.handle(received("unsubscribe+newsletter@mail.offboard.test", sender="Alice <alice@example.com>")) == {
        "unsubscribed": 1
    }
    assert subscribers.get_subscription(alice, "newsletter").status == consent.UNSUBSCRIBED
    assert subscribers.get_subscription(alice, "promo").status == consent.ACTIVE


@pytest.mark.parametrize(
    ("mail", "outcome"),
    [
        # spoofed: From says alice, nothing vouches for it
        (dict(sender="alice@example.com", spf="FAIL", dkim="FAIL", dmarc="FAIL"), "untrusted_sender"),
        (
            dict(sender="alice@example.com", envelope="x@attacker.test", dkim_domain="attacker.test", dmarc="FAIL"),
            "untrusted_sender",
        ),
        (dict(sender="carol@example.com"), "unknown_address"),  # trusted, but not on the list
        (dict(sender="alice@example.com", virus="FAIL"), "virus"),
        (dict(sender="alice@example.com", spam="FAIL"), "spam"),
    ],
)
def test_spoofed_unknown_or_infected_mails_change_nothing(people, mail, outcome):
    assert mailto.handle(received("unsubscribe+newsletter@mail.offboard.test", **mail)) == {outcome: 1}
    assert subscribers.get_subscription(people["alice@example.com"], "newsletter").status == consent.ACTIVE


@pytest.mark.parametrize(
    ("recipient", "subject", "outcome"),
    [
        ("unsubscribe+k1.aaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb@mail.offboard.test", "unsubscribe", "bad_token"),
        ("unsubscribe+k1.garbage@mail.offboard.test", "unsubscribe", "bad_token"),
        (MAILBOX, "unsubscribe k1.sx.newsletter..AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "bad_token"),
        (MAILBOX, "please unsubscribe me", "no_list"),
        ("unsubscribe+nosuchlist@mail.offboard.test", "unsubscribe", "unknown_address"),
        ("unsubscribe+bad!list@mail.offboard.test", "unsubscribe", "bad_list"),
        ("someone@else.test", "unsubscribe", "not_ours"),
        ("other@mail.offboard.test", "unsubscribe", "not_ours"),
    ],
)
def test_bad_tokens_and_addresses_are_dropped(people, recipient, subject, outcome):
    assert mailto.handle(received(recipient, subject=subject)) == {outcome: 1}
    for sid in people.values():
        assert all(s.status == consent.ACTIVE for s in subscribers.subscriptions_of(sid))


def test_a_mail_to_two_of_our_addresses_is_each_applied(people):
    from chalicelib.core.settings import get_settings

    alice, bob = people["alice@example.com"], people["bob@example.com"]
    mail = received(_address(mailto_uri(get_settings(), alice, "promo")))
    mail["receipt"]["recipients"].append("unsubscribe+newsletter@mail.offboard.test")
    mail["mail"]["commonHeaders"]["from"] = ["bob@example.com"]
    assert mailto.handle(mail) == {"unsubscribed": 2}
    assert subscribers.get_subscription(alice, "promo").status == consent.UNSUBSCRIBED
    assert subscribers.get_subscription(bob, "newsletter").status == consent.UNSUBSCRIBED


@pytest.mark.parametrize(
    "message",
    ["{not json", "null", "[]", '{"notificationType": "Bounce"}', '{"notificationType": "Received"}', "x" * 10],
)
def test_what_is_not_a_received_mail_is_dropped(people, message):
    assert sum(mailto.handle(message).values()) == 1


# Storage failures are the one thing that raises (Lambda retries, then the failure queue).


class StorageDown(RuntimeError):
    pass


def test_a_storage_failure_while_applying_a_mail_raises_for_a_retry(people, monkeypatch):
    from chalicelib.core.settings import get_settings

    def down(*args, **kwargs):
        raise StorageDown("DynamoDB unavailable")

    mail = received(_address(mailto_uri(get_settings(), people["alice@example.com"], "promo")))
    monkeypatch.setattr(subscribers, "unsubscribe", down)
    with pytest.raises(StorageDown):
        mailto.handle(mail)
    monkeypatch.undo()
    forget_settings()
    monkeypatch.setenv("UNSUBSCRIBE_MAILTO", MAILBOX)
    assert mailto.handle(mail) == {"unsubscribed": 1}  # the retry applies it


def test_a_storage_failure_while_applying_a_keyword_raises_for_a_retry(aws, monkeypatch):
    def down(*args, **kwargs):
        raise StorageDown("DynamoDB unavailable")

    monkeypatch.setattr(subscribers, "sms_opt_out", down)
    with pytest.raises(StorageDown):
        sms.handle(inbound_sms("+66812345678", "STOP"), "2026-11-23T09:00:00.000Z")
