"""The storage interfaces services commit through (consent, coupons, the sunset job) and the one
switch that picks their implementation: DynamoDB by default, `chalicelib.storage.memory` when a
test selects it with `use(...)`. The operations are the ones the planners need: read the state a
planner takes, commit a plan atomically with its preconditions, read the counters it moved."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: the one-click path does not import the coupon rules
    from chalicelib.domain.consent import EventState, NumberState, ProfileState, SubscriptionState
    from chalicelib.domain.consent import Plan as ConsentPlan
    from chalicelib.domain.coupons import CodeState, CounterChange, Outcome
    from chalicelib.domain.coupons import Plan as CodePlan
    from chalicelib.domain.sunset import ClockPlan, UnsubscribePlan


@dataclass(frozen=True)
class Stale:
    """The preconditions of a plan no longer held. `first` says nothing of the plan was written
    (else its first part was: a change over many lists, stopped part-way); the items whose
    condition failed, as they were."""

    first: bool
    subscriptions: dict[str, SubscriptionState] = field(default_factory=dict)
    profile: ProfileState | None = None
    number: NumberState | None = None  # the same profile, as a phone number's


@dataclass(frozen=True)
class Recorded:
    """One consent event of a subscriber's trail, as stored."""

    key: str
    action: str
    list_id: str
    source: str
    at: datetime


@dataclass(frozen=True)
class CodeChanged:
    """The code was not as the plan read it (another till got there first): how it is now,
    None when it no longer exists."""

    code: CodeState | None


class ConsentStore(Protocol):
    def add_list(self, list_id: str, name: str) -> None: ...

    def subscription(self, subscriber_id: str, list_id: str) -> SubscriptionState: ...

    def profile(self, subscriber_id: str) -> ProfileState | None: ...

    def everything(self, subscriber_id: str) -> tuple[ProfileState | None, list[SubscriptionState]]:
        """The profile (None: there is none) and every subscription."""
        ...

    def event(self, subscriber_id: str, key: str) -> EventState | None: ...

    def trail(self, subscriber_id: str) -> list[Recorded]:
        """The consent events, oldest first."""
        ...

    def commit(self, subscriber_id: str, plan: ConsentPlan, now: datetime) -> Stale | None:
        """Write the plan all or nothing under its preconditions (in parts of
        `LISTS_PER_TRANSACTION` lists, the profile and the event with the first): None when written
        (or its event exists already: an earlier attempt landed), `Stale` when a precondition no
        longer held. Raises UnknownList when the list it needs does not exist."""
        ...

    def record_engagement(self, subscriber_id: str, list_id: str, at: datetime, sunset_due: datetime) -> bool:
        """Move `last_engaged_at` forward only, while the subscription receives mail, restarting
        the sunset clock. False when nothing moved."""
        ...

    def members(self, list_id: str) -> int: ...

    def leaving_counts(self, list_id: str, first_month: str, last_month: str) -> dict[str, dict[str, int]]: ...

    def forget(self, subscriber_id: str, now: datetime) -> dict:
        """Erasure's second half: keep only the opt-out (profile and unsubscribed lists), drop the
        address and the trail."""
        ...


class CouponStore(Protocol):
    def code(self, code: str) -> CodeState | None: ...

    def visitor(self, site_key: str, visitor_id: str):
        """The visitor's offer state (`offers.VisitorState`, with its optimistic version), or None."""
        ...

    def issue(
        self,
        code: CodeState,
        visitor,
        counters: tuple[CounterChange, ...],
        day: str,
        rate_key: str,
        rate_limit: int,
        now: datetime,
    ) -> None:
        """The code, the visitor's state (as versioned when read), the planned budget reservation
        and the per-IP rate counter, all or nothing; else `IssueRefused` naming why."""
        ...

    def commit_code_change(self, plan: CodePlan) -> Outcome | CodeChanged | None:
        """A redemption or rollback: None when committed; the refusal of the counter ceiling that
        failed; or how the code now is, when it was not as the plan read it."""
        ...

    def campaign_counts(self, site_key: str, campaign_id: str) -> dict[str, dict[str, int]]:
        """Counter item (`TOTAL`, `DAY#<day>`, `ARM#<variant>`) -> attribute -> value."""
        ...

    def customer_redemptions(self, site_key: str, campaign_id: str, customer: str) -> int: ...


@dataclass(frozen=True)
class SunsetRun:
    """A sunset run's report as stored (`SUNSET#RUNS` / run id)."""

    run_id: str
    status: str | None  # scanning | acting | done
    dry_run: bool
    days: list[str]
    shards: int
    started_at: datetime | None
    finished_at: datetime | None = None
    braked_lists: frozenset[str] = frozenset()
    left_days: frozenset[str] = frozenset()  # due days that still hold items after this run
    sample: list | None = None
    outcomes: dict[str, int] = field(default_factory=dict)  # `sunset_runs.OUTCOMES` -> count

    @property
    def is_dry_run(self) -> bool:
        return self.dry_run


@dataclass(frozen=True)
class CandidateChunk:
    """One chunk of a shard's candidates, kept between a run's scan and act phases."""

    run_id: str
    shard: int
    number: int
    candidates: list[dict]


@dataclass(frozen=True)
class DueSubscription:
    """A subscription as the due index holds it: what the job reads of it."""

    subscriber_id: str
    list_id: str
    status: str | None
    email: str | None
    subscribed_at: datetime | None
    last_engaged_at: datetime | None
    sends_since_engaged: int
    sunset_due: str | None
    sunset_state: str | None
    pending_since: datetime | None
    reminder_sent_at: datetime | None

    @classmethod
    def of(cls, subscriber_id: str, record) -> DueSubscription:
        """From a stored subscription, the DynamoDB item or the memory store's record alike: the
        two name these fields the same."""
        return cls(
            subscriber_id,
            record.list_id,
            record.status,
            record.email,
            record.subscribed_at,
            record.last_engaged_at,
            int(record.sends_since_engaged or 0),
            record.sunset_due,
            record.sunset_state,
            record.pending_since,
            record.reminder_sent_at,
        )


@dataclass(frozen=True)
class Acted:
    """What the job did to a list on one day, summed over the counter's shards."""

    day: str  # YYYY-MM-DD, the run's day
    kind: str  # reminded | unsubscribed
    reminded_on: str | None  # for unsubscribed: the day of their reminder (None: unknown)
    n: int


class SunsetStore(Protocol):
    """The sunset job's runs, chunks, cursor and brake counters, and its reads and conditional
    steps on subscriptions (which live with the consent store's: a memory sunset store shares
    its consent store's items)."""

    def create_run(self, run_id: str, days: list[str], shards: int, dry_run: bool, now: datetime) -> SunsetRun:
        """Refused (StorageUnavailable) when a run of that id exists."""
        ...

    def get_run(self, run_id: str) -> SunsetRun | None: ...

    def recent_runs(self, limit: int = 20) -> list[SunsetRun]:
        """Newest run id first."""
        ...

    def add_outcomes(self, run_id: str, counts: dict[str, int]) -> None: ...

    def add_list_counts(self, run_id: str, list_id: str, counts: dict[str, int]) -> None: ...

    def list_counts(self, run_id: str) -> dict[str, dict[str, int]]: ...

    def finish_phase(self, run_id: str, phase: str, shard: int) -> int | None:
        """The number of shards done with `phase` after ours; None when ours was counted already."""
        ...

    def update_run(self, run_id: str, **values) -> None: ...

    def add_left_days(self, run_id: str, days: set[str]) -> None: ...

    def save_chunk(self, run_id: str, shard: int, number: int, candidates: list[dict], now: datetime) -> None: ...

    def chunks(self, run_id: str, shard: int) -> list[CandidateChunk]:
        """The shard's chunks, by number."""
        ...

    def delete_chunk(self, chunk: CandidateChunk) -> None: ...

    def acted_between(self, list_id: str, first: datetime, last: datetime) -> list[Acted]: ...

    def get_cursor(self) -> str | None: ...

    def set_cursor(self, day: str) -> None: ...

    def due_page(
        self, day: str, shard: int, last_key: dict | None, page_size: int = 200
    ) -> tuple[list[DueSubscription], dict | None]:
        """One page of the due index partition of `day` and `shard`, by subscriber then list; the
        key to resume after (None: the partition has no more)."""
        ...

    def commit_clock(self, plan: ClockPlan) -> bool:
        """The step and its brake counter, all or nothing; False when a precondition no longer held."""
        ...

    def commit_sunset_unsubscribe(self, subscriber_id: str, list_id: str, plan: UnsubscribePlan, now: datetime) -> bool:
        """The consent plan and its brake counter, all or nothing; False when the plan changes
        nothing or a precondition no longer held."""
        ...

    def count_send(self, subscriber_id: str, list_id: str, message_id: str, now: datetime) -> str:
        """One more email since the last engagement, once per message: counted, duplicate or not_subscribed."""
        ...


@dataclass
class _Selected:
    consent: ConsentStore | None = None
    coupons: CouponStore | None = None
    sunset: SunsetStore | None = None
    default_consent: ConsentStore | None = None
    default_coupons: CouponStore | None = None
    default_sunset: SunsetStore | None = None


_selected = _Selected()


def register_defaults(
    consent: ConsentStore | None = None, coupons: CouponStore | None = None, sunset: SunsetStore | None = None
) -> None:
    """Called by the DynamoDB implementations as they are imported (the switch must not import
    them: they import it)."""
    if consent is not None:
        _selected.default_consent = consent
    if coupons is not None:
        _selected.default_coupons = coupons
    if sunset is not None:
        _selected.default_sunset = sunset


def consent_store() -> ConsentStore:
    return _selected.consent or _selected.default_consent


def coupon_store() -> CouponStore:
    return _selected.coupons or _selected.default_coupons


def sunset_store() -> SunsetStore:
    return _selected.sunset or _selected.default_sunset


@contextmanager
def use(
    consent: ConsentStore | None = None, coupons: CouponStore | None = None, sunset: SunsetStore | None = None
) -> Iterator[None]:
    """Services commit through these stores until the block ends (a test's in-memory store)."""
    before = (_selected.consent, _selected.coupons, _selected.sunset)
    _selected.consent, _selected.coupons, _selected.sunset = consent, coupons, sunset
    try:
        yield
    finally:
        _selected.consent, _selected.coupons, _selected.sunset = before
