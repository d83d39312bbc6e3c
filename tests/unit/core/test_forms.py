import pytest

from chalicelib.core.errors import Invalid, TooLarge, UnsupportedMediaType
from chalicelib.core.forms import parse_form
from tests.helpers import YAHOO_BOUNDARY, multipart


def test_gmail_style_urlencoded_one_click():
    assert parse_form("application/x-www-form-urlencoded", b"List-Unsubscribe=One-Click") == {
        "List-Unsubscribe": "One-Click"
    }


def test_multipart_one_click():
    body = multipart({"List-Unsubscribe": "One-Click"})
    assert parse_form(f"multipart/form-data; boundary={YAHOO_BOUNDARY}", body) == {"List-Unsubscribe": "One-Click"}


def test_an_empty_body_is_an_empty_form():
    assert parse_form("application/x-www-form-urlencoded", b"") == {}
    assert parse_form(None, None) == {}


def test_utf8_values_survive_both_encodings():
    assert parse_form("application/x-www-form-urlencoded", "comment=ขอบคุณ".encode())["comment"] == "ขอบคุณ"
    body = multipart({"comment": "ขอบคุณ"})
    assert parse_form(f"multipart/form-data; boundary={YAHOO_BOUNDARY}", body)["comment"] == "ขอบคุณ"


def test_an_oversized_body_is_413():
    with pytest.raises(TooLarge):
        parse_form("application/x-www-form-urlencoded", b"a=" + b"x" * 9000)


def test_an_unexpected_content_type_is_415():
    with pytest.raises(UnsupportedMediaType):
        parse_form("application/json", b'{"List-Unsubscribe": "One-Click"}')


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data", b"--x\r\n\r\n"),
        ("application/x-www-form-urlencoded", b"\xff\xfe=\xff"),
    ],
)
def test_unreadable_forms_are_400(content_type, body):
    with pytest.raises(Invalid) as error:
        parse_form(content_type, body)
    assert type(error.value) is Invalid
