"""The pure parts of the other doors: the compact mailto token and where it goes, who a mail's
sender can be trusted to be, SMS keywords and phone numbers."""

from __future__ import annotations

import pytest

from chalicelib.core.ids import subscriber_id_for
from chalicelib.unsubscribe import tokens
from chalicelib.unsubscribe.headers import MAX_LOCAL_PART, build_headers, mailto_uri
from chalicelib.unsubscribe.mailto import Dropped, trusted_sender
from chalicelib.unsubscribe.sms import InvalidPhone, keyword_of, normalize_phone, phone_id
from tests.integration.doors import received
from tests.unit.unsubscribe.test_i18n_and_headers import make_settings

KEYS = {"k1": b"1" * 32, "k2": b"2" * 32}
SID = subscriber_id_for(b"i" * 32, "alice@example.com")


# The compact token in the mailto's local part.


def test_the_compact_token_fits_the_local_part_with_the_unsubscribe_prefix():
    compact = tokens.sign_mailto(KEYS, "k2", SID, "a-list-id-of-the-longest-kind-" + "x" * 34)
    assert len(f"unsubscribe+{compact}".encode()) <= MAX_LOCAL_PART
    assert compact.startswith("k2.") and SID[1:] in compact  # no address, no list: opaque


def test_the_compact_token_names_the_subscriber_and_finds_its_list_among_the_subscribers_lists():
    compact = tokens.sign_mailto(KEYS, "k2", SID, "promo")
    token = tokens.parse_mailto(KEYS, compact)
    assert (token.key_id, token.subscriber_id) == ("k2", SID)
    assert tokens.mailto_list(KEYS, token, ["newsletter", "promo"]) == "promo"
    # mail systems may change the case of a local part
    assert tokens.mailto_list(KEYS, tokens.parse_mailto(KEYS, compact.upper()), ["promo"]) == "promo"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c[:-1] + ("a" if c[-1] != "a" else "b"),  # signature changed
        lambda c: c.replace(SID[1:4], "aaa", 1),  # another subscriber
        lambda c: "k9" + c[2:],  # a key we do not hold
        lambda c: c + "a",  # malformed
        lambda c: c.replace(".", "", 1),
    ],
)
def test_a_tampered_compact_token_is_refused(mutate):
    compact = tokens.sign_mailto(KEYS, "k2", SID, "promo")
    with pytest.raises(tokens.InvalidToken):
        tokens.mailto_list(KEYS, tokens.parse_mailto(KEYS, mutate(compact)), ["promo", "newsletter"])


def test_a_token_for_another_list_matches_none_of_the_lists_held():
    token = tokens.parse_mailto(KEYS, tokens.sign_mailto(KEYS, "k2", SID, "promo"))
    with pytest.raises(tokens.InvalidToken):
        tokens.mailto_list(KEYS, token, ["newsletter"])


def test_the_header_carries_the_compact_token_as_a_subaddress():
    settings = make_settings("unsubscribe@mail.example.com")
    value = build_headers(settings, SID, "newsletter").headers["List-Unsubscribe"]
    https, mailto = value.split(", ")
    assert https.startswith("<https://")
    assert mailto.startswith("<mailto:unsubscribe+k2.") and mailto.endswith("@mail.example.com?subject=unsubscribe>")
    assert "example.com" not in mailto.split("@")[0] and "newsletter" not in mailto


@pytest.mark.parametrize(
    ("mailbox", "subscriber"),
    [("unsubscribe@mail.example.com", "sabc"), ("x" * 40 + "@mail.example.com", SID), ("a+b@example.com", SID)],
)
def test_when_the_compact_form_cannot_be_used_the_full_token_goes_in_the_subject(mailbox, subscriber):
    uri = mailto_uri(make_settings(mailbox), subscriber, "newsletter", "spring")
    address, _, query = uri.removeprefix("mailto:").partition("?")
    assert address == mailbox and query.startswith("subject=unsubscribe%20k2.")
    raw = query.removeprefix("subject=unsubscribe%20")
    assert tokens.verify(KEYS, raw).list_id == "newsletter"


# Trusting the From address of a mail without a token.


def _mail(**kwargs):
    from chalicelib.unsubscribe.contracts import RECEIVED

    notification = RECEIVED.validate_python(received("unsubscribe+newsletter@mail.example.com", **kwargs))
    return notification.mail, notification.receipt


def test_a_passing_dmarc_verdict_vouches_for_the_from_address():
    assert trusted_sender(*_mail(sender="Alice <Alice@Example.com>")) == "alice@example.com"


@pytest.mark.parametrize("dmarc", ["FAIL", "GRAY", "PROCESSING_FAILED"])
def test_without_dmarc_pass_an_aligned_envelope_batv_included_vouches_for_nobody(dmarc):
    """Issue 16.2: SPF passing for the envelope domain is not alignment with From; only SES's
    DMARC verdict ties the two (the rule that used to read `mail.source` here is gone)."""
    mail, receipt = _mail(sender="alice@example.com", envelope="prvs=1234abcd=alice@example.com", dmarc=dmarc)
    with pytest.raises(Dropped, match="untrusted_sender"):
        trusted_sender(mail, receipt)


def test_a_dkim_signature_header_naming_the_from_domain_vouches_for_nobody():
    """Issue 16.2: a forwarded (SRS) mail or an attacker's, with a `DKIM-Signature` header
    naming the From domain: header text is never read for alignment, only DMARC PASS counts."""
    srs = "SRS0=HHH=TT=example.com=alice@forwarder.test"
    for dkim_domain in ("example.com", "mail.example.com", "forwarder.test"):
        mail, receipt = _mail(sender="alice@example.com", envelope=srs, dmarc="GRAY", dkim_domain=dkim_domain)
        with pytest.raises(Dropped, match="untrusted_sender"):
            trusted_sender(mail, receipt)
    mail, receipt = _mail(sender="alice@example.com", envelope=srs, dkim_domain="forwarder.test")
    assert trusted_sender(mail, receipt) == "alice@example.com"  # SES said DMARC PASS


@pytest.mark.parametrize("verdicts", [{"spf": "FAIL", "dkim": "FAIL"}, {"spf": "GRAY", "dkim": "PROCESSING_FAILED"}])
def test_without_a_passing_spf_or_dkim_verdict_nobody_is_trusted(verdicts):
    with pytest.raises(Dropped, match="untrusted_sender"):
        trusted_sender(*_mail(**verdicts))  # even with DMARC "PASS" claimed


@pytest.mark.parametrize("sender", ["", "not an address", "a@example.com, b@example.com", "x" * 2000])
def test_a_from_field_that_is_not_one_address_names_nobody(sender):
    with pytest.raises(Dropped, match="no_sender"):
        trusted_sender(*_mail(sender=sender))


# SMS keywords and numbers.


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        (" Stop. ", "stop"),
        ("StopAll", "stop"),
        ("UNSUBSCRIBE", "stop"),
        ("cancel", "stop"),
        ("END", "stop"),
        ("quit!", "stop"),
        ("stop sending me these", "stop"),
        ("หยุด", "stop"),
        ("ยกเลิก", "stop"),
        ("ยกเลิกครับ", "stop"),
        ("ＳＴＯＰ", "stop"),  # full-width, as some phones send it
        # AWS's required opt-out keywords (FACTS): AWS opts the number out on each of them
        ("ARRET", "stop"),
        ("Opt-Out", "stop"),
        ("optout", "stop"),
        ("REMOVE", "stop"),
        ("td", "stop"),
        ("Remove me please", "stop"),
        ("START", "start"),
        ("unstop", "start"),
        ("เริ่ม", "start"),
        ("HELP", "help"),
        ("help?", "help"),
        ("ช่วยเหลือ", "help"),
        ("hello", None),
        ("don't stop", None),
        ("", None),
        ("   ", None),
        (None, None),
        (42, None),
    ],
)
def test_keywords_are_read_in_any_case_in_english_and_thai(body, expected):
    assert keyword_of(body) == expected


def test_the_keyword_aws_matched_counts_when_the_body_does_not_say():
    assert keyword_of("", "STOP") == "stop" and keyword_of("hello", "KEYWORD_123") is None


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+66812345678", None, "+66812345678"),
        ("+66 81 234 5678", None, "+66812345678"),
        ("081-234-5678", "TH", "+66812345678"),
        ("+1 (425) 555-0182", None, "+14255550182"),
    ],
)
def test_numbers_are_normalised_to_e164(raw, region, expected):
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "0812345678", "+6681", "phone", None, 66812345678, "+" + "1" * 40])
def test_what_is_not_a_number_is_refused(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_a_numbers_id_is_opaque_and_never_an_addresss():
    number_id = phone_id(b"i" * 32, "+66812345678")
    assert number_id.startswith("p") and len(number_id) == 25 and "66812345678" not in number_id
    assert number_id != phone_id(b"j" * 32, "+66812345678") and not SID.startswith("p")
