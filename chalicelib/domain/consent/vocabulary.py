"""The consent vocabulary: statuses, actions, sources, outcomes, and the choices a page offers."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    PAUSED = "paused"


ACTIVE, UNSUBSCRIBED, PAUSED = Status.ACTIVE, Status.UNSUBSCRIBED, Status.PAUSED
RECEIVING = frozenset({ACTIVE, PAUSED})  # still on the list (a pause ends by itself)


class Action(StrEnum):
    """What a consent event records."""

    SUBSCRIBE = "subscribe"
    RESUBSCRIBE = "resubscribe"
    UNSUBSCRIBE = "unsubscribe"
    UNSUBSCRIBE_ALL = "unsubscribe_all"
    PAUSE = "pause"
    RESUME = "resume"
    FREQUENCY = "frequency"
    SUPPRESS_EMAIL = "suppress_email"
    SUPPRESS_SMS = "suppress_sms"
    RESUME_SMS = "resume_sms"


class Source(StrEnum):
    """Through which door a change came."""

    ONE_CLICK = "one-click"
    PAGE = "page"
    API = "api"
    IMPORT = "import"
    SUNSET = "sunset"
    COMPLAINT = "complaint"
    BOUNCE = "bounce"
    ERASURE = "erasure"
    SES_SUBSCRIPTION = "ses-subscription"  # SES subscription management (its own header or page)
    MAILTO = "mailto"  # an email to the List-Unsubscribe mailto address (SES receiving)
    SMS_KEYWORD = "sms-keyword"  # STOP / START sent to one of our SMS numbers


class Outcome(StrEnum):
    """What a planned change does: applied, or already done and why."""

    SUBSCRIBED = "subscribed"
    RESUBSCRIBED = "resubscribed"
    ALREADY_SUBSCRIBED = "already_subscribed"
    PREVIOUSLY_UNSUBSCRIBED = "previously_unsubscribed"
    UNSUBSCRIBED = "unsubscribed"
    ALREADY_UNSUBSCRIBED = "already_unsubscribed"
    PAUSED = "paused"
    ALREADY_PAUSED = "already_paused"
    NOT_SUBSCRIBED = "not_subscribed"
    FREQUENCY_CHOSEN = "frequency_chosen"
    FREQUENCY_HELD = "frequency_held"
    RESTORED = "restored"
    NOTHING_TO_UNDO = "nothing_to_undo"
    SUPPRESSED = "suppressed"
    ALREADY_SUPPRESSED = "already_suppressed"
    KEPT = "kept"
    KEPT_BY_RESUBSCRIBING = "kept_by_resubscribing"
    OPTED_OUT = "opted_out"
    RESUMED = "resumed"
    KEYWORD_REPEATED = "keyword_repeated"
    KEYWORD_SUPERSEDED = "keyword_superseded"


SOURCES = tuple(Source)
CHANNELS = ("email", "sms", "push")
# What a person can choose on the unsubscribe page; "all" must exist whenever per-list choices do.
CHOICES = ("list", "all", "pause30", "pause90")
PAUSE_DAYS = {"pause30": 30, "pause90": 90}


def pause_end(choice: str, now: datetime) -> datetime:
    return now + timedelta(days=PAUSE_DAYS[choice])
