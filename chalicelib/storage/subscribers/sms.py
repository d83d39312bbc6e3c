"""SMS opt-out and resume by keyword (STOP / START), on the profile of a phone number.

A number's profile lives in its own partition, keyed by an opaque id the caller derives from
the number (never the number itself). Its `suppressed_channels` holds `sms` while the number
is opted out, the same field a send-time check reads for every profile, and
`sms_keyword_at` the time of the latest keyword applied: inbound messages arrive out of order,
so a keyword older than the one applied changes nothing (`consent.plan_sms_keyword` decides).
Each change is one transaction: the profile's conditional update and its consent event.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain import consent
from chalicelib.domain.consent import UNKNOWN, Plan
from chalicelib.storage.subscribers.changes import Change, Stale, replanned, storage_errors
from chalicelib.storage.subscribers.models import PROFILE, AuditContext, Profile
from chalicelib.storage.transactions import get_or_none

SMS = consent.SMS


@storage_errors
def _keyword(subscriber_id: str, stop: bool, at: datetime, ctx: AuditContext, now: datetime) -> Change:
    plan = consent.plan_sms_keyword(UNKNOWN, stop, at, ctx, now)

    def replan(stale: Stale) -> Plan:
        return consent.plan_sms_keyword(stale.number, stop, at, ctx, now)

    return Change.of(replanned(subscriber_id, plan, replan, now, 3))


def sms_opt_out(subscriber_id: str, at: datetime, ctx: AuditContext, now: datetime) -> Change:
    """The number asked to stop at `at`: suppress SMS unless a later keyword was applied already.
    `applied` is False for a repeat or a keyword older than the last one applied."""
    return _keyword(subscriber_id, True, at, ctx, now)


def sms_resume(subscriber_id: str, at: datetime, ctx: AuditContext, now: datetime) -> Change:
    """The number asked to receive SMS again at `at` (START / UNSTOP): lifts the SMS suppression
    only, and only when no later keyword was applied."""
    return _keyword(subscriber_id, False, at, ctx, now)


def sms_profile(subscriber_id: str) -> Profile | None:
    return get_or_none(Profile, subscriber_id, PROFILE)


@storage_errors
def sms_opted_out(subscriber_ids: list[str]) -> set[str]:
    """Which of these number ids are opted out of SMS (one batched read, ≤ 100 keys)."""
    if not subscriber_ids:
        return set()
    found = Profile.batch_get([(sid, PROFILE) for sid in dict.fromkeys(subscriber_ids)])
    return {p.pk for p in found if SMS in (p.suppressed_channels or ())}
