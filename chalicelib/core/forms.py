"""Reading the small form bodies that mailbox providers and our own pages POST."""

from __future__ import annotations

from urllib.parse import parse_qs

from chalicelib.core.errors import Invalid, TooLarge, UnsupportedMediaType

FORM_URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
FORM_CONTENT_TYPES = [FORM_URLENCODED, MULTIPART]
MAX_FORM_BYTES = 8 * 1024


def parse_form(content_type: str | None, body: bytes | None, limit: int = MAX_FORM_BYTES) -> dict[str, str]:
    """Field name -> first value. An empty body is an empty form."""
    body = body or b""
    if len(body) > limit:
        raise TooLarge("bad_form", "the form is too large")
    if not body:
        return {}
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == FORM_URLENCODED:
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20)
        except (UnicodeDecodeError, ValueError) as error:
            raise Invalid("bad_form", "the form could not be read") from error
        return {name: values[0] for name, values in fields.items()}
    if media_type == MULTIPART:
        return _parse_multipart(content_type or "", body)
    raise UnsupportedMediaType("bad_form", "send application/x-www-form-urlencoded or multipart/form-data")


def _parse_multipart(content_type: str, body: bytes) -> dict[str, str]:
    from email.parser import BytesParser  # only multipart bodies need the MIME parser
    from email.policy import HTTP

    boundary = _boundary(content_type)
    header = f'Content-Type: multipart/form-data; boundary="{boundary}"\r\n\r\n'.encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(header + body)
    if not message.is_multipart():
        raise Invalid("bad_form", "the multipart body could not be read")
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name or name in fields:
            continue
        payload = part.get_payload(decode=True) or b""
        try:
            fields[name] = payload.decode(part.get_content_charset() or "utf-8")
        except (UnicodeDecodeError, LookupError) as error:
            raise Invalid("bad_form", "the form could not be read") from error
        if len(fields) > 20:
            raise Invalid("bad_form", "too many fields")
    return fields


def _boundary(content_type: str) -> str:
    """The boundary parameter, quoted or not (clients send `=` and `.` in it unquoted too)."""
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "boundary":
            value = value.strip().strip('"')
            if 0 < len(value) <= 200 and value.isascii() and '"' not in value:
                return value
    raise Invalid("bad_form", "multipart body without a boundary")


MAX_PAGE = 100


def page_size(limit) -> int:
    """A listing's `limit` query parameter: 50 when absent, else a whole number 1-MAX_PAGE."""
    try:
        size = int(limit) if limit not in (None, "") else 50
    except (TypeError, ValueError) as error:
        raise Invalid("bad_page", f"limit is a whole number, 1-{MAX_PAGE}") from error
    if not 1 <= size <= MAX_PAGE:
        raise Invalid("bad_page", f"limit is a whole number, 1-{MAX_PAGE}")
    return size
