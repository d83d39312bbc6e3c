"""Addresses as other systems write them (SES's recipients and headers, the webhook's `email`),
reduced by the stdlib's RFC 5322 parser to the strict form `normalize_email` stores."""

import time

import pytest

from chalicelib.core.ids import InvalidEmail, addresses_in, normalize_email, parse_address


@pytest.mark.parametrize(
    "written, address",
    [
        ("x@example.com", "x@example.com"),
        ("John <x@example.com>", "x@example.com"),
        ("John Doe <X@Example.COM>", "x@example.com"),
        ('"Doe, John" <x@example.com>', "x@example.com"),
        ('"John \\"JD\\" Doe" <x@example.com>', "x@example.com"),
        ("=?utf-8?q?J=C3=B6rg?= <x@example.com>", "x@example.com"),
        ("<x@example.com>", "x@example.com"),
        ("x@example.com (John)", "x@example.com"),
        ("  John\t<x@example.com>  ", "x@example.com"),
    ],
)
def test_one_address_with_or_without_a_display_name(written, address):
    assert parse_address(written) == address


@pytest.mark.parametrize(
    "written",
    [
        "",
        "nope",
        "John",
        "a@b",
        "<>",
        "John <x@example.com",  # unterminated: a parse defect
        "alice@example.org)<x@example.com>",  # two readings (CVE-2023-27043): none is taken
        "x@example.com\r\nBcc: y@example.com",
        "x@example.com\x00",
        "John <x@example.com>, Mary <y@example.com>",
        'John <"x y"@example.com>',  # a quoted local part: valid RFC 5322, refused by the stored form
        "x" * 999,
        None,
        5,
        ["x@example.com"],
        {"address": "x@example.com"},
    ],
)
def test_anything_but_exactly_one_clean_address_is_refused(written):
    with pytest.raises(InvalidEmail):
        parse_address(written)


def test_lists_of_addresses_as_ses_writes_the_to_header():
    assert addresses_in("Jane Doe <jane@example.com>, Mary Doe <mary@example.com>, jane@example.com") == [
        "jane@example.com",
        "mary@example.com",
    ]
    assert addresses_in("undisclosed-recipients:;") == []
    assert addresses_in("team: a@example.com, b@example.com;") == ["a@example.com", "b@example.com"]


def test_the_stored_form_stays_strict():
    with pytest.raises(InvalidEmail):
        normalize_email("John <x@example.com>")


def test_long_hostile_values_are_refused_quickly():
    """The stdlib parser is quadratic on runs of quotes (100 000 take minutes)."""
    started = time.monotonic()
    for hostile in ('"' * 100_000, "<" * 100_000, "a@b.com, " * 20_000, '"' * 998):
        addresses_in(hostile)
    assert time.monotonic() - started < 2
