"""Unsubscribes that arrive as email: SES receives mail for the `UNSUBSCRIBE_MAILTO` domain and
a receipt rule's SNS action publishes it (`notificationType: "Received"`, `mail`, `receipt`,
`content`); this reads the notification and unsubscribes whom it names.

Who is unsubscribed, in order:
1. a signed token: the compact one in the recipient address (`unsubscribe+<kid>.<subscriber>.
   <signature>@domain`, the mailto our List-Unsubscribe header carries) or a full one in the
   subject (`unsubscribe <token>`, when the compact form did not fit). The token is the only
   credential, as for one-click: the sender is not checked.
2. without a valid token, the sender, from the list the address names
   (`unsubscribe+<list_id>@domain`), but only when SES's DMARC verdict is PASS: that verdict
   is what ties a passing SPF or DKIM domain to the From domain. Nothing is read from the
   mail's own headers to decide it (anyone can add a `DKIM-Signature` naming the victim's
   domain beside the one that passed). The address must already have a subscription to that
   list.

Anything else (not a Received notification, a virus or spam verdict FAIL, a bad token, an
untrusted or unknown sender, no list named) is counted and dropped, never raised: AWS would
redeliver it and the same mail would fail the same way. Only a storage failure raises, so the
invocation is retried and then kept in the function's failure queue. Applying the same mail
twice changes nothing the second time (the unsubscribe is conditional).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.core.ids import ID_PATTERN, InvalidEmail, parse_address, subscriber_id_for
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings
from chalicelib.unsubscribe import tokens

if TYPE_CHECKING:
    from chalicelib.unsubscribe.contracts import Receipt, ReceivedMail

PASS, FAIL = "PASS", "FAIL"


class Dropped(Exception):
    """The mail is not acted on; `str(error)` is the outcome counted."""


def trusted_sender(mail: ReceivedMail, receipt: Receipt) -> str:
    """The From address when SES's DMARC verdict vouches for it; Dropped otherwise."""
    spf, dkim, dmarc = receipt.spfVerdict.status, receipt.dkimVerdict.status, receipt.dmarcVerdict.status
    # DMARC passes only through a passing SPF or DKIM check: a PASS without one is not SES's.
    if dmarc != PASS or PASS not in (spf, dkim):
        raise Dropped("untrusted_sender")
    senders = mail.commonHeaders.sender
    try:
        if len(senders) != 1:
            raise InvalidEmail("not one From address")
        return parse_address(senders[0])
    except InvalidEmail as error:
        raise Dropped("no_sender") from error


def _ours(recipient: str, mailbox: str) -> str | None:
    """What follows the `+` in one of our receiving addresses ("" for the plain address);
    None for an address that is not ours."""
    local, _, domain = recipient.strip().strip("<>").rpartition("@")
    base_local, _, base_domain = mailbox.rpartition("@")
    if domain.lower() != base_domain.lower():
        return None
    head, plus, detail = local.partition("+")
    if head.lower() != base_local.lower():
        return None
    return detail if plus else ""


def _subject_token(mail: ReceivedMail) -> str | None:
    subject = mail.commonHeaders.subject
    if subject is None:
        return None
    found = tokens.FULL_TOKEN.search(subject)
    return found.group(0) if found else None


def _unsubscribe(subscriber_id: str, list_id: str, ctx, now: datetime) -> str:
    from chalicelib.storage import subscribers

    try:
        change = subscribers.unsubscribe(subscriber_id, list_id, ctx, now)
    except subscribers.UnknownList as error:
        raise Dropped("unknown_list") from error
    return "unsubscribed" if change.applied else "already_unsubscribed"


def _by_compact_token(detail: str, now: datetime) -> str:
    """The list is not written in the compact token: the subscriber's own lists are tried first
    (one query), then every other list, since `/v1/unsubscribe-headers` hands out a mailto for
    an address we have never seen (or a list it never joined): its opt-out is stored as the
    one-click link for the same message stores it."""
    from chalicelib.storage import lists, subscribers
    from chalicelib.storage.subscribers import AuditContext

    keys = get_settings().signing_keys
    try:
        token = tokens.parse_mailto(keys, detail)
        held = [s.list_id for s in subscribers.subscriptions_of(token.subscriber_id)]
        try:
            list_id = tokens.mailto_list(keys, token, held)
        except tokens.InvalidToken:
            # One paginated read of the small lists table, only for a token none of the
            # subscriber's lists matches (an async event, never a request path).
            list_id = tokens.mailto_list(keys, token, [x for x in lists.list_ids() if x not in held])
    except tokens.InvalidToken as error:
        raise Dropped("bad_token") from error
    return _unsubscribe(token.subscriber_id, list_id, AuditContext("mailto", key_id=token.key_id), now)


def _by_sender(list_id: str, mail: ReceivedMail, receipt: Receipt, now: datetime) -> str:
    from chalicelib.storage import subscribers
    from chalicelib.storage.subscribers import AuditContext

    sender = trusted_sender(mail, receipt)
    subscriber_id = subscriber_id_for(get_settings().subscriber_id_key, sender)
    if subscribers.get_subscription(subscriber_id, list_id) is None:
        raise Dropped("unknown_address")
    return _unsubscribe(subscriber_id, list_id, AuditContext("mailto"), now)


def _one(detail: str, mail: ReceivedMail, receipt: Receipt, now: datetime) -> str:
    from chalicelib.storage.subscribers import AuditContext

    if "." in detail:
        return _by_compact_token(detail, now)
    raw = _subject_token(mail)
    if raw is not None:
        try:
            token = tokens.verify(get_settings().signing_keys, raw)
        except tokens.InvalidToken:
            token = None
        if token is not None:
            ctx = AuditContext("mailto", key_id=token.key_id, campaign_id=token.campaign_id)
            return _unsubscribe(token.subscriber_id, token.list_id, ctx, now)
        if not detail:
            raise Dropped("bad_token")
    if not detail:
        raise Dropped("no_list")
    if not ID_PATTERN.match(detail):
        raise Dropped("bad_list")
    return _by_sender(detail, mail, receipt, now)


def handle(message, now: datetime | None = None) -> Counter:
    """One SNS message from the receipt rule: every address of ours it was sent to is tried.
    Returns the outcomes (each also counted as `MailtoUnsubscribes` by outcome)."""
    now = now or datetime.now(UTC)
    outcomes: Counter = Counter()
    try:
        outcomes.update(_outcomes(message, now))
    finally:
        for outcome, times in outcomes.items():
            for _ in range(times):
                count("MailtoUnsubscribes", outcome=outcome)
        logger.info("mailto unsubscribe", extra={"outcomes": dict(outcomes)})
    return outcomes


def _outcomes(message, now: datetime) -> Counter:
    outcomes: Counter = Counter()
    from pydantic import ValidationError

    from chalicelib.unsubscribe.contracts import RECEIVED

    if not isinstance(message, str | bytes):
        notification = RECEIVED.validate_python(message)
    else:
        try:
            notification = RECEIVED.validate_json(message)
        except ValidationError:  # not JSON: nothing at all can be read
            return Counter(malformed=1)
    if notification.notificationType != "Received":
        return Counter(not_received=1)
    mail, receipt = notification.mail, notification.receipt
    if receipt.virusVerdict.status == FAIL:
        return Counter(virus=1)
    if receipt.spamVerdict.status == FAIL:
        return Counter(spam=1)
    mailbox = get_settings().unsubscribe_mailto
    if not mailbox:
        return Counter(not_configured=1)
    recipients = receipt.recipients or mail.destination
    details = [d for d in dict.fromkeys(_ours(r, mailbox) for r in recipients) if d is not None]
    if not details:
        return Counter(not_ours=1)
    for detail in details:
        try:
            outcomes[_one(detail, mail, receipt, now)] += 1
        except Dropped as dropped:
            outcomes[str(dropped)] += 1
    return outcomes
