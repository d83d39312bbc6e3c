"""The subscribers table family, by concern: `models` (items and keys), `reads`, `changes`
(consent transactions), `engagement`, `sunset` (the job's transitions) and `privacy` (erasure).
Callers use the names re-exported here."""

from chalicelib.storage.subscribers.changes import (
    LISTS_PER_TRANSACTION,
    Change,
    ConcurrentChange,
    UnknownList,
    pause,
    record_survey,
    subscribe,
    suppress_channel,
    undo,
    unsubscribe,
    unsubscribe_all,
)
from chalicelib.storage.subscribers.counters import leaving_counts
from chalicelib.storage.subscribers.engagement import count_send, count_transient_bounce, record_engagement
from chalicelib.storage.subscribers.frequency import set_frequency, undo_frequency
from chalicelib.storage.subscribers.models import (
    PROFILE,
    AuditContext,
    ConsentEvent,
    Profile,
    SubscriberPartition,
    Subscription,
    due_key,
    list_key,
)
from chalicelib.storage.subscribers.privacy import erase
from chalicelib.storage.subscribers.reads import (
    consent_events,
    everything_about,
    get_event,
    get_profile,
    get_subscription,
    members_of,
    permission_records,
    reason_counts,
    subscriptions_of,
)
from chalicelib.storage.subscribers.sms import SmsProfile, sms_opt_out, sms_opted_out, sms_profile, sms_resume
from chalicelib.storage.subscribers.sunset import (
    due_page,
    mark_pending,
    mark_reminded,
    release_pending,
    reminded_together,
    reschedule,
    sunset_unsubscribe,
    unsubscribe_reminded,
)

__all__ = [
    "LISTS_PER_TRANSACTION",
    "PROFILE",
    "AuditContext",
    "Change",
    "ConcurrentChange",
    "ConsentEvent",
    "Profile",
    "SmsProfile",
    "SubscriberPartition",
    "Subscription",
    "UnknownList",
    "consent_events",
    "count_send",
    "count_transient_bounce",
    "due_key",
    "due_page",
    "erase",
    "everything_about",
    "get_event",
    "get_profile",
    "get_subscription",
    "leaving_counts",
    "list_key",
    "mark_pending",
    "mark_reminded",
    "members_of",
    "pause",
    "permission_records",
    "reason_counts",
    "record_engagement",
    "record_survey",
    "release_pending",
    "reminded_together",
    "reschedule",
    "set_frequency",
    "sms_opt_out",
    "sms_opted_out",
    "sms_profile",
    "sms_resume",
    "subscribe",
    "subscriptions_of",
    "suppress_channel",
    "sunset_unsubscribe",
    "undo",
    "undo_frequency",
    "unsubscribe",
    "unsubscribe_all",
    "unsubscribe_reminded",
]
