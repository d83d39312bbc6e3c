"""The rules of consent, free of storage: the vocabulary, who may be sent to, and one pure planner
per consent change, which decides what the change does to the state it is given (or "already
done", decided here and nowhere else). Storage commits a plan; services ask for one.

One module per kind of change (docs/storage.md names the planner of each and its tests); the
package answers every name, so `consent.plan_unsubscribe(...)` reads the same everywhere."""

from chalicelib.domain.consent.doors import (
    SMS,
    plan_complaint,
    plan_ses_unsubscribe_all,
    plan_sms_keyword,
    plan_suppress_channel,
)
from chalicelib.domain.consent.erase import (
    plan_erase,
)
from chalicelib.domain.consent.frequency import (
    EVERY_EMAIL,
    FREQUENCY_CHOICE,
    FREQUENCY_ID,
    frequency_label,
    frequency_of,
    plan_frequency,
    plan_undo_frequency,
)
from chalicelib.domain.consent.keep import (
    KeepDecision,
    plan_keep,
)
from chalicelib.domain.consent.leave import (
    plan_unsubscribe,
    plan_unsubscribe_all,
)
from chalicelib.domain.consent.pause import (
    PAUSE_REPEAT_WINDOW,
    plan_pause,
    plan_resume,
)
from chalicelib.domain.consent.permission import (
    Permission,
    may_send,
)
from chalicelib.domain.consent.state import (
    ANY,
    EVERY_LIST,
    LISTS_PER_TRANSACTION,
    NO_PROFILE,
    UNKNOWN,
    AuditContext,
    Event,
    EventState,
    Expect,
    NumberState,
    Plan,
    ProfileState,
    ProfileWrite,
    SubscriptionState,
    SubscriptionWrite,
    Sunset,
    chunks,
    new_event,
)
from chalicelib.domain.consent.subscribe import (
    plan_subscribe,
)
from chalicelib.domain.consent.sunset import (
    PENDING,
    plan_sunset_unsubscribe,
)
from chalicelib.domain.consent.survey import (
    DEFAULT_SURVEY_REASONS,
    MAX_SURVEY_REASONS,
    SURVEY_COMMENT_LIMIT,
    SURVEY_REASONS,
    InvalidSurvey,
    InvalidSurveyReasons,
    clean_survey,
    clean_survey_reasons,
    survey_reasons_of,
)
from chalicelib.domain.consent.undo import (
    UNDO_ACTION,
    UNDOABLE_SOURCES,
    plan_undo,
    undoable,
    undone_by,
)
from chalicelib.domain.consent.vocabulary import (
    ACTIVE,
    CHANNELS,
    CHOICES,
    PAUSE_DAYS,
    PAUSED,
    RECEIVING,
    SOURCES,
    UNSUBSCRIBED,
    Action,
    Outcome,
    Source,
    Status,
    pause_end,
)

__all__ = [
    "Status",
    "ACTIVE",
    "UNSUBSCRIBED",
    "PAUSED",
    "RECEIVING",
    "Action",
    "Source",
    "Outcome",
    "SOURCES",
    "CHANNELS",
    "CHOICES",
    "PAUSE_DAYS",
    "pause_end",
    "UNKNOWN",
    "EVERY_LIST",
    "ANY",
    "AuditContext",
    "SubscriptionState",
    "ProfileState",
    "NO_PROFILE",
    "EventState",
    "Event",
    "new_event",
    "Expect",
    "Sunset",
    "SubscriptionWrite",
    "ProfileWrite",
    "Plan",
    "LISTS_PER_TRANSACTION",
    "NumberState",
    "chunks",
    "Permission",
    "may_send",
    "SURVEY_REASONS",
    "DEFAULT_SURVEY_REASONS",
    "SURVEY_COMMENT_LIMIT",
    "InvalidSurvey",
    "InvalidSurveyReasons",
    "MAX_SURVEY_REASONS",
    "clean_survey_reasons",
    "survey_reasons_of",
    "clean_survey",
    "plan_subscribe",
    "plan_unsubscribe",
    "plan_unsubscribe_all",
    "PAUSE_REPEAT_WINDOW",
    "plan_pause",
    "plan_resume",
    "FREQUENCY_CHOICE",
    "FREQUENCY_ID",
    "EVERY_EMAIL",
    "frequency_of",
    "frequency_label",
    "plan_frequency",
    "plan_undo_frequency",
    "UNDO_ACTION",
    "UNDOABLE_SOURCES",
    "undoable",
    "plan_undo",
    "undone_by",
    "KeepDecision",
    "plan_keep",
    "plan_complaint",
    "plan_ses_unsubscribe_all",
    "plan_suppress_channel",
    "SMS",
    "plan_sms_keyword",
    "PENDING",
    "plan_sunset_unsubscribe",
    "plan_erase",
]
