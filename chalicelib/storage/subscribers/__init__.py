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
from chalicelib.storage.subscribers.engagement import count_send, count_transient_bounce, record_engagement
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
from chalicelib.storage.subscribers.sunset import (
    due_page,
    mark_pending,
    mark_reminded,
    release_pending,
    reschedule,
    sunset_unsubscribe,
)

__all__ = [
    "LISTS_PER_TRANSACTION",
    "PROFILE",
    "AuditContext",
    "Change",
    "ConcurrentChange",
    "ConsentEvent",
    "Profile",
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
    "reschedule",
    "subscribe",
    "subscriptions_of",
    "suppress_channel",
    "sunset_unsubscribe",
    "undo",
    "unsubscribe",
    "unsubscribe_all",
]
