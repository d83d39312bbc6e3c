"""Senders' preflight: is a message one-click ready by Gmail's and Yahoo's rules (RFC 8058)?

Takes the raw message and answers a checklist; reads the tables but never writes them (the
one-click is a dry run of the verification the one-click route does).
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import compat32
from enum import StrEnum
from urllib.parse import urlsplit

from chalicelib.core.errors import Invalid, TooLarge
from chalicelib.core.ids import addresses_in, subscriber_id_for
from chalicelib.core.settings import get_settings
from chalicelib.domain import consent
from chalicelib.storage import lists, subscribers
from chalicelib.unsubscribe import tokens
from chalicelib.unsubscribe.headers import ONE_CLICK

# Mailbox providers clip far smaller messages (Gmail at 102 KB); this only bounds the work.
MAX_MESSAGE_BYTES = 2 * 1024 * 1024
UNSUBSCRIBE_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")
MAX_SIGNATURES = 5
_FIELD_NAME = re.compile(rb"^[!-9;-~]+:")  # RFC 5322 ftext, then the colon
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_URI = re.compile(r"<([^>]*)>")

DnsLookup = Callable[..., bytes | None]


class Status(StrEnum):
    PASS = "pass"  # noqa: S105  (a checklist status, not a password)
    FAIL = "fail"
    WARN = "warn"


@dataclass(frozen=True)
class Finding:
    check: str
    status: Status
    message: str  # what was found and, unless it passed, what to fix


@dataclass(frozen=True)
class PreflightReport:
    findings: tuple[Finding, ...]

    @property
    def ready(self) -> bool:
        return all(f.status != Status.FAIL for f in self.findings)

    def as_dict(self) -> dict:
        return {
            "ready": self.ready,
            "findings": [{"check": f.check, "status": str(f.status), "message": f.message} for f in self.findings],
        }


def check_message(message: bytes, dkim_key: str | None = None, dns: DnsLookup | None = None) -> PreflightReport:
    """The checklist for one message. `dkim_key` is the signer's public key, as its DNS TXT value
    (`v=DKIM1; k=rsa; p=...`) or a PEM public key; without it the key is looked up in DNS (`dns`,
    dkimpy's resolver by default)."""
    parsed = _parse(message)
    https, unsubscribe = _list_unsubscribe(parsed)
    findings = [unsubscribe, _list_unsubscribe_post(parsed)]
    if dkim_key is not None:
        dns = _given(public_key_record(dkim_key))
    findings += _dkim(message, parsed, dns)
    raw_token, token, finding = _our_token(https)
    findings.append(finding)
    findings.append(_recipient(parsed, token))
    findings.append(_one_click_dry_run(raw_token))
    return PreflightReport(tuple(findings))


def _parse(message: bytes):
    if not isinstance(message, bytes | bytearray):
        raise Invalid("not_a_message", "send the message itself (an .eml file, message/rfc822)")
    if len(message) > MAX_MESSAGE_BYTES:
        raise TooLarge("too_large", f"the message is larger than {MAX_MESSAGE_BYTES} bytes")
    if not _FIELD_NAME.match(bytes(message)):
        raise Invalid("not_a_message", "this is not an RFC 5322 message: it must start with a header field")
    parsed = BytesParser(policy=compat32).parsebytes(bytes(message))
    if len(_values(parsed, "From")) != 1:
        raise Invalid("not_a_message", "this is not an RFC 5322 message: it needs exactly one From header")
    return parsed


def _values(parsed, name: str) -> list[str]:
    return [_FOLD.sub("", str(v)).strip() for v in parsed.get_all(name) or []]


def _list_unsubscribe(parsed) -> tuple[str | None, Finding]:
    """The one https URI, and the finding on the header."""
    check = "list_unsubscribe"
    values = _values(parsed, "List-Unsubscribe")
    if not values:
        return None, Finding(check, Status.FAIL, "no List-Unsubscribe header: add one with the https link we give")
    if len(values) > 1:
        return None, Finding(check, Status.FAIL, f"{len(values)} List-Unsubscribe headers: keep exactly one")
    uris = _URI.findall(values[0])
    if not uris:
        return None, Finding(check, Status.FAIL, "List-Unsubscribe holds no URI: write each in <angle brackets>")
    https = [u.strip() for u in uris if u.strip().lower().startswith("https://")]
    others = [u for u in uris if not u.strip().lower().startswith(("https://", "mailto:"))]
    if len(https) != 1:
        found = "no" if not https else str(len(https))
        return None, Finding(
            check,
            Status.FAIL,
            f"{found} https URIs in List-Unsubscribe: RFC 8058 needs exactly one (a mailto may follow)",
        )
    if others:
        return https[0], Finding(
            check, Status.FAIL, f"List-Unsubscribe has URIs other than https and mailto ({others[0]}): remove them"
        )
    mailto = " and a mailto" if len(uris) > 1 else ""
    return https[0], Finding(check, Status.PASS, f"one https URI{mailto}")


def _list_unsubscribe_post(parsed) -> Finding:
    check = "list_unsubscribe_post"
    values = _values(parsed, "List-Unsubscribe-Post")
    if not values:
        return Finding(check, Status.FAIL, f"no List-Unsubscribe-Post header: add `List-Unsubscribe-Post: {ONE_CLICK}`")
    if len(values) > 1:
        return Finding(check, Status.FAIL, f"{len(values)} List-Unsubscribe-Post headers: keep exactly one")
    if values[0] != ONE_CLICK:
        return Finding(check, Status.FAIL, f"List-Unsubscribe-Post is {values[0]!r}: it must be exactly {ONE_CLICK!r}")
    return Finding(check, Status.PASS, f"List-Unsubscribe-Post: {ONE_CLICK}")


def public_key_record(key: str) -> bytes:
    """A DKIM key record from what a sender has at hand: the TXT value itself, or a PEM public
    key (an RSA `PUBLIC KEY`, whose DER is what `p=` holds)."""
    text = (key or "").strip()
    if "-----BEGIN" in text:
        body = re.sub(r"-----[A-Z ]+-----|\s", "", text)
        try:
            base64.b64decode(body, validate=True)
        except ValueError as error:
            raise Invalid("bad_dkim_key", "the PEM public key is not valid base64") from error
        return f"v=DKIM1; k=rsa; p={body}".encode()
    if re.search(r"(^|;)\s*p=", text):
        return text.encode()
    raise Invalid("bad_dkim_key", "give the DKIM public key as its DNS TXT value (v=DKIM1; k=rsa; p=...) or as PEM")


def _given(record: bytes) -> DnsLookup:
    """A lookup that answers every selector with the key the sender gave."""

    def lookup(name: bytes, timeout: int = 5) -> bytes:
        return record

    return lookup


@dataclass(frozen=True)
class _Signature:
    domain: str
    selector: str
    signed: frozenset[str]
    verified: bool
    why: str  # why it did not verify
    body_length: bool = False  # an l= tag: only that many body bytes are signed


def _dkim(message: bytes, parsed, dns: DnsLookup | None) -> list[Finding]:
    """The best DKIM signature (verifies, covers both headers, aligned, in that order), judged:
    one signature must do all three; a second one aligned but not verifying proves nothing."""
    checks = ("dkim_verifies", "dkim_covers_unsubscribe_headers", "dkim_aligned")
    headers = _values(parsed, "DKIM-Signature")
    if not headers:
        advice = "sign with d= your From domain and h= naming List-Unsubscribe and List-Unsubscribe-Post"
        return [Finding(checks[0], Status.FAIL, f"no DKIM-Signature: {advice}")] + [
            Finding(c, Status.WARN, "not checked: the message has no DKIM signature") for c in checks[1:]
        ]
    from_domain = _from_domain(parsed)
    # Each signature may cost a DNS lookup (5 s at worst): a few are checked, as receivers do.
    signatures = [_verify(message, index, value, dns) for index, value in enumerate(headers[:MAX_SIGNATURES])]

    def score(s: _Signature) -> tuple[bool, bool, bool]:
        return s.verified, _covers(s), _aligned(s.domain, from_domain) == Status.PASS

    best = max(signatures, key=score)  # max keeps the first of equals
    name = f"d={best.domain} s={best.selector}"
    if best.verified:
        verified = Finding(checks[0], Status.PASS, f"the signature {name} verifies")
    else:
        verified = Finding(checks[0], Status.FAIL, f"the signature {name} does not verify: {best.why}")
    missing = [h for h in UNSUBSCRIBE_HEADERS if h.lower() not in best.signed]
    if missing:
        covered = Finding(
            checks[1],
            Status.FAIL,
            f"h= of {name} does not name {' and '.join(missing)}: add both unsubscribe headers to the signed headers",
        )
    else:
        covered = Finding(checks[1], Status.PASS, f"h= of {name} names List-Unsubscribe and List-Unsubscribe-Post")
    findings = [verified, covered, _alignment_finding(checks[2], best.domain, from_domain)]
    if best.body_length:
        findings.append(
            Finding(
                "dkim_body_length",
                Status.WARN,
                f"{name} signs only the first l= bytes of the body: whatever is appended after them still verifies "
                "(a forwarder's or an attacker's text); drop l= and sign the whole body",
            )
        )
    if len(headers) > MAX_SIGNATURES:
        findings.append(
            Finding(
                "dkim_signatures",
                Status.WARN,
                f"{len(headers)} DKIM signatures, only the first {MAX_SIGNATURES} checked: sign once or twice",
            )
        )
    return findings


def _covers(signature: _Signature) -> bool:
    return all(h.lower() in signature.signed for h in UNSUBSCRIBE_HEADERS)


def _from_domain(parsed) -> str | None:
    found = addresses_in(_values(parsed, "From")[0])
    return found[0].rpartition("@")[2] if len(found) == 1 else None


class _Errors(logging.Handler):
    """dkimpy logs (rather than raises) why a key could not be used."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _verify(message: bytes, index: int, header: str, dns: DnsLookup | None) -> _Signature:
    import dkim
    from dkim.util import parse_tag_value

    try:
        tags = parse_tag_value(header.encode())
    except Exception:  # noqa: BLE001  (untrusted input in dkimpy's parser: any failure means "unreadable")
        tags = {}
    domain = tags.get(b"d", b"?").decode("ascii", "replace").strip().lower().rstrip(".")
    selector = tags.get(b"s", b"?").decode("ascii", "replace").strip()
    signed = frozenset(h.strip().lower() for h in tags.get(b"h", b"").decode("ascii", "replace").split(":"))
    body_length = b"l" in tags
    errors = _Errors()
    log = logging.Logger("offboard.preflight.dkim")
    log.addHandler(errors)
    try:
        verifier = dkim.DKIM(bytes(message), logger=log)
        ok = verifier.verify(idx=index, dnsfunc=dns) if dns else verifier.verify(idx=index)
    except dkim.ValidationError as error:
        if "body hash" in str(error):
            why = "the body changed after signing (body hash mismatch): sign the message after its last change"
        else:
            why = f"{error}: fix the signature's tags"
        return _Signature(domain, selector, signed, False, why, body_length)
    except Exception as error:  # noqa: BLE001  (dkimpy raises many kinds on malformed input)
        why = f"it cannot be checked ({error}): re-sign the message"
        return _Signature(domain, selector, signed, False, why, body_length)
    if ok:
        return _Signature(domain, selector, signed, True, "", body_length)
    if errors.messages:
        why = f"the public key for {selector}._domainkey.{domain} cannot be used ({errors.messages[-1]}): check the key"
    else:
        why = "a signed header changed after signing, or the key is not the signer's: sign the message last"
    return _Signature(domain, selector, signed, False, why, body_length)


def _aligned(signing: str, from_domain: str | None) -> Status:
    """DMARC relaxed alignment without a public-suffix list: the same domain, or one a parent of the
    other with at least two labels (`news.example.com` and `example.com`), passes; two sibling
    subdomains of the same two-label parent are a warning (aligned only when that parent is the
    organizational domain); anything else fails."""
    if not from_domain or not signing:
        return Status.FAIL
    shorter, longer = sorted((signing, from_domain), key=len)
    if signing == from_domain or (longer.endswith("." + shorter) and shorter.count(".") >= 1):
        return Status.PASS
    if signing.split(".")[-2:] == from_domain.split(".")[-2:] and signing.count(".") >= 2:
        return Status.WARN
    return Status.FAIL


def _alignment_finding(check: str, signing: str, from_domain: str | None) -> Finding:
    status = _aligned(signing, from_domain)
    if from_domain is None:
        return Finding(check, Status.FAIL, "the From header holds no single valid address: fix From")
    if status == Status.PASS:
        return Finding(check, status, f"d={signing} is aligned with the From domain {from_domain}")
    parent = ".".join(from_domain.split(".")[-2:])
    if status == Status.WARN:
        return Finding(
            check,
            status,
            f"d={signing} and From {from_domain} share {parent}: aligned only if that is the organizational "
            f"domain; sign with d={from_domain} or d={parent} to be sure",
        )
    return Finding(
        check, status, f"d={signing} is not aligned with the From domain {from_domain}: sign with d={from_domain}"
    )


def _our_token(https: str | None) -> tuple[str | None, tokens.UnsubscribeToken | None, Finding]:
    """The link's raw token and what it says, when it is ours and valid."""
    check = "token"
    if https is None:
        return None, None, Finding(check, Status.WARN, "not checked: List-Unsubscribe has no single https URI")
    settings = get_settings()
    base = urlsplit(settings.public_base_url)
    try:
        link = urlsplit(https)
    except ValueError:  # `https://[x/`: not a URL, so not ours
        link = urlsplit("")
    prefix = base.path.rstrip("/") + "/u/"
    raw = link.path[len(prefix) :] if link.path.startswith(prefix) else ""
    ours = (link.scheme, link.netloc.lower()) == (base.scheme, base.netloc.lower())
    if not ours or not raw or "/" in raw or link.query or link.fragment:
        return (
            None,
            None,
            Finding(
                check,
                Status.FAIL,
                f"the https URI is not one of our links ({settings.public_base_url}/u/<token>): "
                "use the headers /v1/unsubscribe-headers gives for this recipient",
            ),
        )
    try:
        token = tokens.verify(settings.signing_keys, raw)
    except tokens.InvalidToken as error:
        if str(error) == "unknown key":
            why = f"it is signed with key id {raw.split('.')[0]!r}, which this stage no longer holds (retired)"
        else:
            why = f"it is not a token we signed ({error}: forged or altered)"
        return None, None, Finding(check, Status.FAIL, f"{why}: take fresh headers from /v1/unsubscribe-headers")
    return raw, token, Finding(check, Status.PASS, f"our signed token for list {token.list_id} (key {token.key_id})")


def _recipient(parsed, token: tokens.UnsubscribeToken | None) -> Finding:
    check = "recipient"
    if token is None:
        return Finding(check, Status.WARN, "not checked: the message carries no valid token of ours")
    addresses = [a for value in _values(parsed, "To") for a in addresses_in(value)]
    if not addresses:
        return Finding(check, Status.FAIL, "no valid address in To: address the message to its one recipient")
    key = get_settings().subscriber_id_key
    named = [a for a in addresses if subscriber_id_for(key, a) == token.subscriber_id]
    if not named:
        return Finding(
            check,
            Status.FAIL,
            "the link unsubscribes someone other than the To recipient: build the headers for this recipient",
        )
    if len(addresses) > 1:
        return Finding(
            check,
            Status.WARN,
            f"To names {len(addresses)} addresses but the link unsubscribes only {named[0]}: "
            "send each recipient their own message",
        )
    return Finding(check, Status.PASS, f"the token names the To recipient {named[0]}")


def _one_click_dry_run(raw_token: str | None) -> Finding:
    """What the one-click route would answer for this link, without its write: the same token
    verification, the list it requires, and the subscription it would change (read only)."""
    check = "one_click"
    if raw_token is None:
        return Finding(check, Status.WARN, "not checked: the message carries no valid token of ours")
    token = tokens.verify_link(raw_token)
    if lists.get_list(token.list_id) is None:
        return Finding(
            check,
            Status.FAIL,
            f"list {token.list_id} does not exist: a one-click would answer 404; create the list or fix its id",
        )
    subscription = subscribers.get_subscription(token.subscriber_id, token.list_id)
    status = subscription.status if subscription else None
    if status in (consent.ACTIVE, consent.PAUSED):
        return Finding(
            check, Status.PASS, f"a one-click would answer 200 and unsubscribe from {token.list_id} (dry run)"
        )
    if status == consent.UNSUBSCRIBED:
        return Finding(
            check,
            Status.WARN,
            f"the recipient left {token.list_id} already: a one-click changes nothing; do not send to them "
            "(check /v1/send-check)",
        )
    return Finding(
        check,
        Status.WARN,
        f"the recipient is not on {token.list_id}: a one-click would record an unsubscribe; "
        "subscribe them first or do not send",
    )
