"""The doors other than a link: a spam complaint, SES subscription management's unsubscribe-all, a
permanent bounce and SMS keywords (a mailto unsubscribe is `leave.plan_unsubscribe`)."""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.consent.leave import plan_unsubscribe_all
from chalicelib.domain.consent.state import (
    EVERY_LIST,
    AuditContext,
    NumberState,
    Plan,
    ProfileState,
    ProfileWrite,
    SubscriptionState,
    Unknown,
    already_done,
    new_event,
    was_read,
)
from chalicelib.domain.consent.vocabulary import Action, Outcome, Source


def plan_complaint(profile: ProfileState | None, subscriptions: list[SubscriptionState], now: datetime) -> Plan:
    """A spam complaint is the strongest opt-out: every list, and every list joined later, even
    when the person had left each list before complaining."""
    return plan_unsubscribe_all(profile, subscriptions, AuditContext(Source.COMPLAINT), now)


def plan_ses_unsubscribe_all(
    profile: ProfileState | None, subscriptions: list[SubscriptionState], now: datetime
) -> Plan:
    """SES subscription management's "unsubscribe from all" (a Subscription event)."""
    return plan_unsubscribe_all(profile, subscriptions, AuditContext(Source.SES_SUBSCRIPTION), now)


def plan_suppress_channel(profile: ProfileState | Unknown, channel: str, ctx: AuditContext, now: datetime) -> Plan:
    """Stop sending on `channel` (a permanent bounce: email, source bounce), recorded once in
    the audit trail."""
    if was_read(profile) and channel in profile.suppressed_channels:
        return already_done(Outcome.ALREADY_SUPPRESSED)
    event = new_event(Action(f"suppress_{channel}"), EVERY_LIST, ctx, now)
    write = ProfileWrite(expect_not_suppressed=channel, suppress=channel)
    return Plan(Outcome.SUPPRESSED, None, event.key, event, profile=write)


# SMS keywords, on the profile of a phone number (STOP / START and their AWS-required synonyms).

SMS = "sms"


def plan_sms_keyword(state: NumberState | Unknown, stop: bool, at: datetime, ctx: AuditContext, now: datetime) -> Plan:
    """A keyword sent at `at`: STOP suppresses SMS, START lifts only that (an email unsubscribe
    stays). A keyword older than the last one applied changes nothing; a repeat records nothing
    but that a newer keyword came, so an older opposite one arriving late stays without effect."""
    if was_read(state):
        if state.keyword_at is not None and state.keyword_at >= at:
            return already_done(Outcome.KEYWORD_SUPERSEDED)
        if state.opted_out == stop:
            return Plan(Outcome.KEYWORD_REPEATED, profile=ProfileWrite(expect_keyword_before=at, keyword_at=at))
    event = new_event(Action.SUPPRESS_SMS if stop else Action.RESUME_SMS, EVERY_LIST, ctx, at)
    write = ProfileWrite(
        expect_keyword_before=at,
        expect_not_suppressed=SMS if stop else None,
        expect_suppressed=None if stop else SMS,
        suppress=SMS if stop else None,
        unsuppress=None if stop else SMS,
        keyword_at=at,
        created_at=now,
    )
    return Plan(Outcome.OPTED_OUT if stop else Outcome.RESUMED, None, event.key, event, profile=write)
