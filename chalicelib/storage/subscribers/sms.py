"""SMS opt-out and resume by keyword (STOP / START), on the profile of a phone number.

A number's profile lives in its own partition, keyed by an opaque id the caller derives from
the number (never the number itself). Its `suppressed_channels` holds `sms` while the number
is opted out, the same field a send-time check reads for every profile, and
`sms_keyword_at` the time of the latest keyword applied: inbound messages arrive out of order,
so a keyword older than the one applied changes nothing. Each change is one transaction: the
profile's conditional update and its consent event.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UTCDateTimeAttribute

from chalicelib.storage.subscribers.changes import Change
from chalicelib.storage.subscribers.models import PROFILE, AuditContext, ConsentEvent, Profile, new_event, request_token
from chalicelib.storage.transactions import ConditionsFailed, Transaction, get_or_none

SMS = "sms"
OPTED_OUT, ACTIVE = "opted_out", "active"


class SmsProfile(Profile):
    """The profile item with the time of the latest SMS keyword applied to it."""

    sms_keyword_at = UTCDateTimeAttribute(null=True)


def _older_than(at: datetime):
    return SmsProfile.sms_keyword_at.does_not_exist() | (SmsProfile.sms_keyword_at < at)


def _apply(subscriber_id: str, stop: bool, at: datetime, ctx: AuditContext, now: datetime) -> Change:
    item = SmsProfile(subscriber_id, PROFILE)
    if stop:
        change = [SmsProfile.suppressed_channels.add({SMS})]
        state = SmsProfile.suppressed_channels.does_not_exist() | ~SmsProfile.suppressed_channels.contains(SMS)
    else:
        change = [SmsProfile.suppressed_channels.delete({SMS})]
        state = SmsProfile.suppressed_channels.contains(SMS)
    event = new_event(subscriber_id, "suppress_sms" if stop else "resume_sms", "*", ctx, at)
    transaction = Transaction().update(
        "profile",
        item,
        actions=[
            *change,
            SmsProfile.sms_keyword_at.set(at),
            SmsProfile.created_at.set(SmsProfile.created_at | now),
        ],
        condition=_older_than(at) & state,
    )
    transaction.put("event", event, condition=ConsentEvent.sk.does_not_exist())
    if _commit(transaction, event):
        return Change(True, event.sk, OPTED_OUT if stop else ACTIVE)
    # Already in the asked state (a repeated keyword): only remember that a newer keyword came,
    # so an older opposite one arriving late stays without effect.
    Transaction().update(
        "profile", item, actions=[SmsProfile.sms_keyword_at.set(at)], condition=_older_than(at)
    ).commit_unless("profile")
    return Change(False, None, None)


def _commit(transaction: Transaction, event: ConsentEvent) -> bool:
    try:
        transaction.commit(request_token(event))
    except ConditionsFailed as failed:
        if "event" in failed:  # our own event exists: an earlier attempt of this change landed
            return True
        if "profile" in failed:
            return False
        raise
    return True


def sms_opt_out(subscriber_id: str, at: datetime, ctx: AuditContext, now: datetime) -> Change:
    """The number asked to stop at `at`: suppress SMS unless a later keyword was applied already.
    `applied` is False for a repeat or a keyword older than the last one applied."""
    return _apply(subscriber_id, True, at, ctx, now)


def sms_resume(subscriber_id: str, at: datetime, ctx: AuditContext, now: datetime) -> Change:
    """The number asked to receive SMS again at `at` (START / UNSTOP): lifts the SMS suppression
    only, and only when no later keyword was applied."""
    return _apply(subscriber_id, False, at, ctx, now)


def sms_profile(subscriber_id: str) -> SmsProfile | None:
    return get_or_none(SmsProfile, subscriber_id, PROFILE)


def sms_opted_out(subscriber_ids: list[str]) -> set[str]:
    """Which of these number ids are opted out of SMS (one batched read, ≤ 100 keys)."""
    if not subscriber_ids:
        return set()
    found = SmsProfile.batch_get([(sid, PROFILE) for sid in dict.fromkeys(subscriber_ids)])
    return {p.pk for p in found if SMS in (p.suppressed_channels or ())}
