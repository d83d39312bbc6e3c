"""The two storage interfaces services commit through (consent, coupons) and the one switch that
picks their implementation: DynamoDB by default, `chalicelib.storage.memory` when a test selects
it with `use(...)`. The operations are the ones the planners need: read the state a planner
takes, commit a plan atomically with its preconditions, read the counters it moved."""

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


@dataclass
class _Selected:
    consent: ConsentStore | None = None
    coupons: CouponStore | None = None
    default_consent: ConsentStore | None = None
    default_coupons: CouponStore | None = None


_selected = _Selected()


def register_defaults(consent: ConsentStore | None = None, coupons: CouponStore | None = None) -> None:
    """Called by the DynamoDB implementations as they are imported (the switch must not import
    them: they import it)."""
    if consent is not None:
        _selected.default_consent = consent
    if coupons is not None:
        _selected.default_coupons = coupons


def consent_store() -> ConsentStore:
    return _selected.consent or _selected.default_consent


def coupon_store() -> CouponStore:
    return _selected.coupons or _selected.default_coupons


@contextmanager
def use(consent: ConsentStore | None = None, coupons: CouponStore | None = None) -> Iterator[None]:
    """Services commit through these stores until the block ends (a test's in-memory store)."""
    before = (_selected.consent, _selected.coupons)
    _selected.consent, _selected.coupons = consent, coupons
    try:
        yield
    finally:
        _selected.consent, _selected.coupons = before
