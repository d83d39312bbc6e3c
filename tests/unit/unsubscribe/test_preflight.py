"""Senders' preflight on messages signed with a real DKIM key: a good message is ready, and each
way of breaking one-click is named with the check that catches it."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from chalicelib.core.errors import Invalid, TooLarge
from chalicelib.storage import subscribers
from chalicelib.storage.subscribers import AuditContext
from chalicelib.unsubscribe import admin, preflight, senders
from chalicelib.unsubscribe.preflight import Status
from tests.preflight_messages import compose, good_headers, public_pem, rsa_key, sign

KEY = rsa_key()[1]


@pytest.fixture
def unsubscribe(aws):
    """The headers offboard gives for alice on `newsletter` (a list she is on)."""
    admin.create_list({"list_id": "newsletter", "name": "The Weekly"})
    admin.add_subscriber("newsletter", "alice@example.com")
    return senders.headers_for({"email": "alice@example.com"}, "newsletter").headers


def statuses(report) -> dict[str, str]:
    return {f.check: str(f.status) for f in report.findings}


def failing(report) -> dict[str, str]:
    return {f.check: f.message for f in report.findings if f.status == Status.FAIL}


def test_a_good_message_is_ready_and_every_check_passes(unsubscribe):
    report = preflight.check_message(sign(compose(good_headers(unsubscribe))), KEY)
    assert report.ready, report.as_dict()
    assert statuses(report) == {
        "list_unsubscribe": "pass",
        "list_unsubscribe_post": "pass",
        "dkim_verifies": "pass",
        "dkim_covers_unsubscribe_headers": "pass",
        "dkim_aligned": "pass",
        "token": "pass",
        "recipient": "pass",
        "one_click": "pass",
    }


def test_the_key_may_be_given_as_pem_and_a_subdomain_from_is_aligned_with_its_parent(unsubscribe):
    headers = [("From", "news@mail.example.com") if n == "From" else (n, v) for n, v in good_headers(unsubscribe)]
    report = preflight.check_message(sign(compose(headers), domain="example.com"), public_pem())
    assert report.ready, report.as_dict()


def test_two_https_uris_fail(unsubscribe):
    headers = [
        (n, f"{v}, <https://elsewhere.example/unsub>") if n == "List-Unsubscribe" else (n, v)
        for n, v in good_headers(unsubscribe)
    ]
    report = preflight.check_message(sign(compose(headers)), KEY)
    assert not report.ready
    assert "2 https URIs" in failing(report)["list_unsubscribe"]


def test_a_uri_without_angle_brackets_or_no_https_uri_fails(unsubscribe):
    url = unsubscribe["List-Unsubscribe"].split(">")[0][1:]
    for value, says in ((url, "angle brackets"), ("<mailto:leave@example.com>", "no https URIs")):
        headers = {**unsubscribe, "List-Unsubscribe": value}
        report = preflight.check_message(sign(compose(good_headers(headers))), KEY)
        assert says in failing(report)["list_unsubscribe"]
        assert statuses(report)["token"] == "warn"  # not checked without the link


def test_a_missing_post_header_fails(unsubscribe):
    headers = [(n, v) for n, v in good_headers(unsubscribe) if n != "List-Unsubscribe-Post"]
    report = preflight.check_message(sign(compose(headers)), KEY)
    assert set(failing(report)) == {"list_unsubscribe_post"}
    assert "add `List-Unsubscribe-Post: List-Unsubscribe=One-Click`" in failing(report)["list_unsubscribe_post"]


def test_a_wrong_post_value_fails(unsubscribe):
    headers = [
        (n, "List-Unsubscribe=OneClick") if n == "List-Unsubscribe-Post" else (n, v)
        for n, v in good_headers(unsubscribe)
    ]
    report = preflight.check_message(sign(compose(headers)), KEY)
    assert set(failing(report)) == {"list_unsubscribe_post"}
    assert "must be exactly 'List-Unsubscribe=One-Click'" in failing(report)["list_unsubscribe_post"]


def test_a_signature_whose_h_does_not_name_the_unsubscribe_headers_fails(unsubscribe):
    message = sign(compose(good_headers(unsubscribe)), signed=(b"From", b"To", b"Subject", b"List-Unsubscribe"))
    report = preflight.check_message(message, KEY)
    assert set(failing(report)) == {"dkim_covers_unsubscribe_headers"}
    assert "does not name List-Unsubscribe-Post" in failing(report)["dkim_covers_unsubscribe_headers"]


def test_a_body_changed_after_signing_fails_verification(unsubscribe):
    message = sign(compose(good_headers(unsubscribe))).replace(b"the weekly news", b"the weekly NEWS")
    report = preflight.check_message(message, KEY)
    assert set(failing(report)) == {"dkim_verifies"}
    assert "body changed after signing" in failing(report)["dkim_verifies"]


def test_a_signed_header_changed_after_signing_fails_verification(unsubscribe):
    message = sign(compose(good_headers(unsubscribe))).replace(b"Subject: This week", b"Subject: This week!")
    report = preflight.check_message(message, KEY)
    assert set(failing(report)) == {"dkim_verifies"}


def test_the_wrong_public_key_fails_verification(unsubscribe):
    report = preflight.check_message(sign(compose(good_headers(unsubscribe))), rsa_key("someone else")[1])
    assert set(failing(report)) == {"dkim_verifies"}


def test_a_signing_domain_not_aligned_with_from_fails(unsubscribe):
    report = preflight.check_message(sign(compose(good_headers(unsubscribe)), domain="esp-mailer.example"), KEY)
    assert set(failing(report)) == {"dkim_aligned"}
    assert "sign with d=example.com" in failing(report)["dkim_aligned"]


def test_an_aligned_signature_that_does_not_verify_does_not_lend_alignment_to_one_that_does(unsubscribe):
    """Anyone can add a DKIM-Signature with d= the From domain: one signature must do it all."""
    signed = sign(compose(good_headers(unsubscribe)), domain="esp-mailer.example")
    other = rsa_key("someone else")[0]
    forged = sign(compose(good_headers(unsubscribe)), private=other).split(b"From:")[0]
    report = preflight.check_message(forged + signed, KEY)
    assert not report.ready and "dkim_aligned" in failing(report)


def test_sibling_subdomains_are_a_warning(unsubscribe):
    headers = [("From", "news@mail.example.com") if n == "From" else (n, v) for n, v in good_headers(unsubscribe)]
    report = preflight.check_message(sign(compose(headers), domain="bounce.example.com"), KEY)
    assert report.ready and statuses(report)["dkim_aligned"] == "warn"


def test_no_signature_fails(unsubscribe):
    report = preflight.check_message(compose(good_headers(unsubscribe)), KEY)
    assert set(failing(report)) == {"dkim_verifies"}


def test_a_forged_token_fails(unsubscribe):
    url = unsubscribe["List-Unsubscribe"].split(">")[0][1:]
    forged = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    headers = {**unsubscribe, "List-Unsubscribe": f"<{forged}>"}
    report = preflight.check_message(sign(compose(good_headers(headers))), KEY)
    assert set(failing(report)) == {"token"}
    assert "forged or altered" in failing(report)["token"]
    assert statuses(report)["recipient"] == statuses(report)["one_click"] == "warn"  # not checked


def test_a_link_that_is_not_ours_fails(unsubscribe):
    headers = {**unsubscribe, "List-Unsubscribe": "<https://elsewhere.example/u/x>"}
    report = preflight.check_message(sign(compose(good_headers(headers))), KEY)
    assert "not one of our links" in failing(report)["token"]


def test_a_token_for_another_recipient_fails(unsubscribe):
    report = preflight.check_message(sign(compose(good_headers(unsubscribe, to="bob@example.com"))), KEY)
    assert set(failing(report)) == {"recipient"}


def test_a_message_to_several_people_is_a_warning(unsubscribe):
    to = "alice@example.com, bob@example.com"
    report = preflight.check_message(sign(compose(good_headers(unsubscribe, to=to))), KEY)
    assert report.ready and statuses(report)["recipient"] == "warn"


def test_a_token_signed_with_a_retired_key_fails(unsubscribe, monkeypatch):
    monkeypatch.setenv("SIGNING_KEYS", "k9:" + "b" * 44)
    monkeypatch.setenv("SIGNING_KEY_ID", "k9")
    from chalicelib.core.settings import forget_settings

    forget_settings()
    report = preflight.check_message(sign(compose(good_headers(unsubscribe))), KEY)
    assert set(failing(report)) == {"token"}
    assert "no longer holds" in failing(report)["token"]


def test_a_token_for_an_unknown_list_fails_the_dry_run(unsubscribe, settings):
    from chalicelib.unsubscribe.headers import build_headers

    headers = build_headers(settings, senders.resolve_subscriber({"email": "alice@example.com"}), "gone").headers
    report = preflight.check_message(sign(compose(good_headers(headers))), KEY)
    assert set(failing(report)) == {"one_click"}
    assert "list gone does not exist" in failing(report)["one_click"]


def test_a_recipient_who_left_is_a_warning(unsubscribe):
    sid = senders.resolve_subscriber({"email": "alice@example.com"})
    subscribers.unsubscribe(sid, "newsletter", AuditContext(source="api"), datetime.now(UTC))
    report = preflight.check_message(sign(compose(good_headers(unsubscribe))), KEY)
    assert report.ready and statuses(report)["one_click"] == "warn"
    assert "left newsletter already" in next(f.message for f in report.findings if f.check == "one_click")


def _items() -> dict[str, list]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return {
        name: sorted(map(repr, client.scan(TableName=name)["Items"])) for name in client.list_tables()["TableNames"]
    }


def test_the_dry_run_changes_nothing_in_the_tables(unsubscribe):
    before = _items()
    report = preflight.check_message(sign(compose(good_headers(unsubscribe))), KEY)
    assert report.ready
    assert _items() == before
    sid = senders.resolve_subscriber({"email": "alice@example.com"})
    [answer] = senders.check_recipients("newsletter", "email", [{"subscriber_id": sid}])
    assert answer["allowed"] is True


def test_without_a_key_the_signer_is_looked_up_in_dns(unsubscribe):
    asked = []

    def dns(name, timeout=5):
        asked.append(name)
        return KEY.encode()

    report = preflight.check_message(sign(compose(good_headers(unsubscribe))), dns=dns)
    assert report.ready and asked == [b"s1._domainkey.example.com."]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"list_id": "newsletter"}',
        b"\x89PNG\r\n\x1a\n",
        b"not a message at all\r\n",
        b"To: a@example.com\r\n\r\nhi",
    ],
)
def test_what_is_not_a_message_is_refused_clearly(body):
    with pytest.raises(Invalid) as refused:
        preflight.check_message(body, KEY)
    assert refused.value.code == "not_a_message"


def test_a_message_over_the_limit_is_too_large():
    with pytest.raises(TooLarge):
        preflight.check_message(b"From: a@example.com\r\n\r\n" + b"x" * preflight.MAX_MESSAGE_BYTES, KEY)


def test_a_key_that_is_neither_a_record_nor_pem_is_refused(unsubscribe):
    with pytest.raises(Invalid) as refused:
        preflight.check_message(sign(compose(good_headers(unsubscribe))), "hello")
    assert refused.value.code == "bad_dkim_key"


def test_only_the_first_few_signatures_are_checked_and_more_are_a_warning(unsubscribe):
    message = compose(good_headers(unsubscribe))
    for _ in range(preflight.MAX_SIGNATURES + 2):
        message = sign(message)
    report = preflight.check_message(message, KEY)
    assert report.ready and statuses(report)["dkim_signatures"] == "warn"


def test_a_signature_over_part_of_the_body_is_named_with_what_to_fix(unsubscribe):
    """l= signs only the first bytes of the body: text appended afterwards still verifies."""
    import dkim

    message = compose(good_headers(unsubscribe))
    signed = dkim.sign(
        message,
        b"s1",
        b"example.com",
        rsa_key()[0],
        include_headers=[b"From", b"To", b"Subject", b"List-Unsubscribe", b"List-Unsubscribe-Post"],
        length=True,
    )
    report = preflight.check_message(signed + message + b"Click here for a prize: https://evil.example/\r\n", KEY)
    assert statuses(report)["dkim_verifies"] == "pass" and statuses(report)["dkim_body_length"] == "warn"
    [warning] = [f for f in report.findings if f.check == "dkim_body_length"]
    assert "drop l=" in warning.message
    assert "dkim_body_length" not in statuses(preflight.check_message(sign(message), KEY))
