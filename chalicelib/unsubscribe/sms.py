"""SMS keywords from AWS End User Messaging SMS two-way messaging: inbound messages reach an SNS
topic as JSON `{originationNumber, destinationNumber, messageKeyword, messageBody,
inboundMessageId, previousPublishedMessageId}`.

- AWS's required opt-out keywords ARRET, CANCEL, END, OPT-OUT, OPTOUT, QUIT, REMOVE, STOP, TD,
  UNSUBSCRIBE, and STOPALL (any case; Thai: หยุด, ยกเลิก, เลิก) record an SMS opt-out in the
  consent trail (source `sms-keyword`), on the profile of the number: AWS opts the number out
  on each of them itself, so our record must agree;
- START, UNSTOP (Thai: เริ่ม) lift it (SMS only: an email unsubscribe stays);
- HELP (Thai: ช่วยเหลือ) is counted and never opts out (AWS answers it with the number's
  configured HELP reply).

Numbers are normalised to E.164 and never stored or logged in clear: a number's profile is keyed
by `phone_id`, an HMAC of the number under `SUBSCRIBER_ID_KEY` with a prefix of its own, so it
never collides with an address's id. Messages arrive out of order: each keyword carries the
time SNS published it, and the profile applies only keywords newer than the last applied one.
Unreadable messages are counted and dropped, never raised; only storage failures raise.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from datetime import UTC, datetime

from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings

# AWS End User Messaging SMS's required opt-out keywords, then ours.
AWS_OPT_OUT_WORDS = ("arret", "cancel", "end", "opt-out", "optout", "quit", "remove", "stop", "td", "unsubscribe")
STOP_WORDS = (*AWS_OPT_OUT_WORDS, "stopall", "หยุด", "ยกเลิก", "เลิก")
START_WORDS = ("start", "unstop", "เริ่ม")
HELP_WORDS = ("help", "ช่วยเหลือ")
# Thai is written without spaces between words: a message starting with one of these is it.
_THAI = tuple(w for w in (*STOP_WORDS, *START_WORDS, *HELP_WORDS) if not w.isascii())
MAX_BODY = 1600
_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$")


class InvalidPhone(ValueError):
    pass


def normalize_phone(value, region: str | None = None) -> str:
    """E.164 (`+66812345678`); a number without `+` is read in `region` (e.g. TH)."""
    if not isinstance(value, str) or not 2 <= len(value.strip()) <= 32:
        raise InvalidPhone("not a phone number")
    import phonenumbers  # phonenumberslite: only the paths that read numbers pay for it

    try:
        number = phonenumbers.parse(value.strip(), region or None)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhone("not a phone number") from error
    # Possible, not "valid": validity follows numbering-plan metadata that lags new ranges, and
    # a STOP must never be lost to it.
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_id(key: bytes, e164: str) -> str:
    """The opaque id of a number's profile: `p` + 24 base32 characters (addresses' ids start with `s`)."""
    digest = hmac.new(key, f"sms|{e164}".encode(), hashlib.sha256).digest()
    return "p" + base64.b32encode(digest[:15]).decode().lower()


def keyword_of(body, matched=None) -> str | None:
    """The keyword a message says: `stop`, `start`, `help` or None, from the whole message or its
    first word, or else from the keyword AWS matched."""
    for text in (body, matched):
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_BODY:
            continue
        text = unicodedata.normalize("NFKC", text).casefold().strip()
        first = _EDGE_PUNCTUATION.sub("", text.split()[0]) if text.split() else ""
        for kind, words in (("stop", STOP_WORDS), ("start", START_WORDS), ("help", HELP_WORDS)):
            if first in words:
                return kind
        for kind, words in (("stop", STOP_WORDS), ("start", START_WORDS), ("help", HELP_WORDS)):
            if any(text.startswith(w) for w in words if w in _THAI):
                return kind
    return None


def _published_at(value) -> datetime | None:
    if not isinstance(value, str) or not 0 < len(value) <= 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def handle(message, published_at=None, now: datetime | None = None) -> str:
    """One inbound message (the SNS `Message`) published at `published_at` (the SNS
    `Timestamp`); returns the outcome, also counted as `SmsKeywords` by outcome."""
    now = now or datetime.now(UTC)
    try:
        outcome = _outcome(message, _published_at(published_at) or now, now)
    except Exception:
        count("SmsKeywords", outcome="failed")
        raise
    count("SmsKeywords", outcome=outcome)
    logger.info("sms keyword", extra={"outcome": outcome})
    return outcome


def _outcome(message, at: datetime, now: datetime) -> str:
    from pydantic import ValidationError

    from chalicelib.storage import subscribers
    from chalicelib.storage.subscribers import AuditContext
    from chalicelib.unsubscribe.contracts import SmsInbound

    try:
        if isinstance(message, str | bytes):
            inbound = SmsInbound.model_validate_json(message)
        else:
            inbound = SmsInbound.model_validate(message)
    except ValidationError:  # not JSON, or not an object
        return "malformed"
    kind = keyword_of(inbound.messageBody, inbound.messageKeyword)
    if kind is None:
        return "other"
    if kind == "help":
        return "help"
    try:
        number = normalize_phone(inbound.originationNumber)  # E.164 from AWS: no region needed
    except InvalidPhone:
        return "malformed"
    sid = phone_id(get_settings().subscriber_id_key, number)
    ctx = AuditContext("sms-keyword")
    if kind == "stop":
        change = subscribers.sms_opt_out(sid, at, ctx, now)
        return "opted_out" if change.applied else "stop_unchanged"
    change = subscribers.sms_resume(sid, at, ctx, now)
    return "resumed" if change.applied else "start_unchanged"
