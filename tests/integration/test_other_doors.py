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


# Issue 16.2: a mail without our token proves nothing by its own headers.


def test_an_injected_dkim_signature_for_the_victims_domain_unsubscribes_nobody(people):
    """The attacker's mail passes SPF and DKIM for the attacker's own domain; a second
    `DKIM-Signature` header claiming `d=example.com` sits beside the real one. SES says DMARC
    FAIL (nothing that passed is aligned with the From domain): the victim stays subscribed."""
    mail = received(
        "unsubscribe+newsletter@mail.offboard.test",
        sender="Alice <alice@example.com>",
        envelope="bounce@attacker.test",
        dkim_domain="attacker.test",
        dmarc="FAIL",
    )
    injected = dict(mail["mail"]["headers"][2])
    injected["value"] = injected["value"].replace("d=attacker.test", "d=example.com")
    mail["mail"]["headers"].insert(2, injected)
    assert [h["value"].count("d=example.com") for h in mail["mail"]["headers"][2:4]] == [1, 0]
    assert mailto.handle(mail) == {"untrusted_sender": 1}
    assert subscribers.get_subscription(people["alice@example.com"], "newsletter").status == consent.ACTIVE
    assert trail(people["alice@example.com"]).count(("unsubscribe", "newsletter", "mailto")) == 0


@pytest.mark.parametrize("dmarc", ["FAIL", "GRAY", "PROCESSING_FAILED", None])
def test_without_a_dmarc_pass_an_aligned_envelope_or_signature_vouches_for_nobody(people, dmarc):
    mail = received(
        "unsubscribe+newsletter@mail.offboard.test", sender="alice@example.com", envelope="prvs=1a2b=alice@example.com"
    )
    if dmarc is None:
        del mail["receipt"]["dmarcVerdict"]
    else:
        mail["receipt"]["dmarcVerdict"] = {"status": dmarc}
    assert mailto.handle(mail) == {"untrusted_sender": 1}
    assert subscribers.get_subscription(people["alice@example.com"], "newsletter").status == consent.ACTIVE


# Issue 16.3: a mailto handed out for an address we have never seen.


def test_mailing_the_mailto_of_an_address_never_seen_stores_its_opt_out_for_that_list(people, settings):
    from chalicelib.core.settings import get_settings

    carol = subscriber_id_for(settings.subscriber_id_key, "carol@example.com")
    assert subscribers.subscriptions_of(carol) == []
    to = _address(mailto_uri(get_settings(), carol, "promo"))
    assert mailto.handle(received(to, sender="noreply@google.test", spf="FAIL", dkim="FAIL")) == {"unsubscribed": 1}
    assert mailto.handle(received(to)) == {"already_unsubscribed": 1}  # the same mail again
    assert trail(carol) == [("unsubscribe", "promo", "mailto")]
    # an import later keeps the choice, for that list only
    assert join(carol, "carol@example.com", "promo", AuditContext("import"), NOW) == "previously_unsubscribed"
    assert join(carol, "carol@example.com", "newsletter", AuditContext("import"), NOW) == "subscribed"


def test_the_mailto_of_a_known_address_for_a_list_it_never_joined_stores_the_opt_out_too(people, settings):
    from chalicelib.core.settings import get_settings

    lists.create_list("digest", "Digest")
    alice = people["alice@example.com"]
    to = _address(mailto_uri(get_settings(), alice, "digest"))
    assert mailto.handle(received(to)) == {"unsubscribed": 1}
    assert subscribers.get_subscription(alice, "digest").status == consent.UNSUBSCRIBED
    assert subscribers.get_subscription(alice, "newsletter").status == consent.ACTIVE


def test_a_forged_compact_token_for_an_address_never_seen_stores_nothing(people, settings):
    carol = subscriber_id_for(settings.subscriber_id_key, "carol@example.com")
    forged = f"unsubscribe+k1.{carol[1:]}.{'a' * 16}@mail.offboard.test"
    assert mailto.handle(received(forged)) == {"bad_token": 1}
    assert subscribers.subscriptions_of(carol) == [] and trail(carol) == []


# Issue 16.4: AWS's required opt-out keywords.


@pytest.mark.parametrize(
    "keyword", ["ARRET", "CANCEL", "END", "OPT-OUT", "OPTOUT", "QUIT", "REMOVE", "STOP", "TD", "UNSUBSCRIBE"]
)
@pytest.mark.parametrize("case", [str.upper, str.lower, str.title])
def test_every_opt_out_keyword_aws_acts_on_is_recorded_too(aws, settings, keyword, case):
    number = "+14255550182"
    assert sms.handle(inbound_sms(number, case(keyword)), "2026-11-23T09:00:00.000Z") == "opted_out"
    number_id = sms.phone_id(settings.subscriber_id_key, number)
    assert subscribers.sms_opted_out([number_id]) == {number_id}
    assert trail(number_id) == [("suppress_sms", "*", "sms-keyword")]


def test_help_answers_and_never_opts_out_and_start_resubscribes(aws, settings):
    number = "+14255550182"
    number_id = sms.phone_id(settings.subscriber_id_key, number)
    assert sms.handle(inbound_sms(number, "OPTOUT"), "2026-11-23T09:00:00.000Z") == "opted_out"
    assert sms.handle(inbound_sms(number, "HELP"), "2026-11-23T09:01:00.000Z") == "help"
    assert subscribers.sms_opted_out([number_id]) == {number_id}
    assert sms.handle(inbound_sms(number, "unstop"), "2026-11-23T09:02:00.000Z") == "resumed"
    assert sms.handle(inbound_sms(number, "help"), "2026-11-23T09:03:00.000Z") == "help"
    assert subscribers.sms_opted_out([number_id]) == set()
    assert [a for a, _, _ in trail(number_id)] == ["suppress_sms", "resume_sms"]


# Opt-outs through these doors while the person's own stop-everything holds (outside finding F9).


def _allowed(email, list_id, channel="email", **more):
    from chalicelib.unsubscribe.senders import check_recipients

    [answer] = check_recipients(list_id, channel, [{"email": email, **more}], NOW)
    return answer["allowed"], answer["reason"]


def test_a_mailto_bounce_and_sms_stop_after_stop_everything_outlast_its_undo(people, settings):
    """A mailto on the newsletter is that list's own choice (the undo of "stop everything" leaves
    it unsubscribed); a hard bounce and an SMS STOP are suppressions of their channel, which an
    undo of a consent choice never lifts. A repeated mail records nothing more."""
    from chalicelib.core.settings import get_settings

    alice, email, phone = people["alice@example.com"], "alice@example.com", "+14255550182"
    stop = subscribers.unsubscribe_all(alice, AuditContext("page"), NOW)
    assert _allowed(email, "newsletter") == _allowed(email, "promo") == (False, "opted_out_all")

    mail = received(_address(mailto_uri(get_settings(), alice, "newsletter")))
    assert mailto.handle(mail) == {"unsubscribed": 1}
    assert mailto.handle(mail) == {"already_unsubscribed": 1}
    assert trail(alice).count(("unsubscribe", "newsletter", "mailto")) == 1
    assert subscribers.suppress_channel(alice, "email", AuditContext("bounce"), NOW)
    assert sms.handle(inbound_sms(phone, "STOP"), "2026-11-23T09:05:00.000Z") == "opted_out"
    assert _allowed(email, "newsletter") == _allowed(email, "promo") == (False, "opted_out_all")
    assert _allowed(email, "promo", "sms", phone=phone) == (False, "sms_opted_out")

    undone = subscribers.undo(alice, "promo", stop.event_key, AuditContext("page"), NOW + timedelta(hours=1), NOW)
    assert undone.applied
    assert subscribers.get_subscription(alice, "newsletter").status == consent.UNSUBSCRIBED
    assert subscribers.get_subscription(alice, "promo").status == consent.ACTIVE
    assert _allowed(email, "newsletter") == _allowed(email, "promo") == (False, "channel_suppressed")
    # On a channel nothing suppressed: the newsletter is left by its own choice, promo is back.
    assert (_allowed(email, "newsletter", "push"), _allowed(email, "promo", "push")) == (
        (False, "unsubscribed"),
        (True, "subscribed"),
    )
    assert _allowed(email, "promo", "sms", phone=phone) == (False, "sms_opted_out")
