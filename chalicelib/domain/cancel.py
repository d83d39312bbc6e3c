"""Cancellation flow rules: a business's flow (reasons, save offers routed by reason, holdout),
the session and every change to it planned from its current state.

Each planner returns a `Change` (the new session, the version it must replace, the webhook
events it emits, whether it spends the offer budget), a `Settled` (nothing to write: the session
already reached an outcome, answered as it stands) or raises `Refused`. `settled` decides once
whether a request is already done; a session is open, then exactly one of cancelled or saved
(a cancelled one may be undone before its effective date). Money is integer minor units.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

MAX_REASONS = 10
COMMENT_LIMIT = 5000  # Stripe's cancellation_details.comment
MAX_TEXT = 200
DEFAULT_LINK_TTL = timedelta(hours=1)
DEFAULT_RETENTION_DAYS = 3 * 366  # California: consent records kept 3 years


MAX_PRICE = 10**12  # minor units: far above any subscription's price


class CancelRuleError(ValueError):
    """Input a flow or session cannot be made of; the message says what to fix."""


class Reason(StrEnum):
    """Stripe's `cancellation_details.feedback` vocabulary, so the answer maps one to one."""

    TOO_EXPENSIVE = "too_expensive"
    UNUSED = "unused"
    SWITCHED_SERVICE = "switched_service"
    MISSING_FEATURES = "missing_features"
    TOO_COMPLEX = "too_complex"
    LOW_QUALITY = "low_quality"
    CUSTOMER_SERVICE = "customer_service"
    OTHER = "other"


class OfferKind(StrEnum):
    DISCOUNT = "discount"  # `percent` off for `months` billing months
    CHEAPER_PLAN = "cheaper_plan"  # move to `plan` at `price`
    PAUSE = "pause"  # no billing for `months` (1-3)


class Status(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"
    SAVED = "saved"
    UNDONE = "undone"  # cancelled, then taken back before the effective date


class Event(StrEnum):
    STARTED = "cancel_session.started"
    COMPLETED = "cancel_session.completed"
    UNDONE = "cancel_session.undone"
    LINK_REQUESTED = "cancel_session.link_requested"  # the person asks the business to mail a new link


HOLDOUT = "holdout"
NO_OFFER = "none"


@dataclass(frozen=True)
class SaveOffer:
    offer_id: str
    kind: OfferKind
    percent: int = 0
    months: int = 0
    plan: str | None = None
    price: int | None = None  # the cheaper plan's price, minor units of the session's currency

    def to_raw(self) -> dict:
        raw = {"offer_id": self.offer_id, "kind": str(self.kind), "percent": self.percent, "months": self.months}
        return raw | ({"plan": self.plan, "price": self.price} if self.kind is OfferKind.CHEAPER_PLAN else {})


def save_offer(
    offer_id: str, kind: OfferKind, percent: int = 0, months: int = 0, plan: str | None = None, price: int | None = None
) -> SaveOffer:
    """An offer the rules allow (each field's type and range checked by `cancel.contracts`). A
    field of another kind sent with a value is refused, not dropped: it is likely a mistake."""
    for name, value, kinds in (
        ("percent", percent, (OfferKind.DISCOUNT,)),
        ("months", months, (OfferKind.DISCOUNT, OfferKind.PAUSE)),
        ("plan", plan, (OfferKind.CHEAPER_PLAN,)),
        ("price", price, (OfferKind.CHEAPER_PLAN,)),
    ):
        if value and kind not in kinds:
            raise CancelRuleError(f"{name}: a {kind} offer has no {name}")
    if kind is OfferKind.PAUSE and not 1 <= months <= 3:
        raise CancelRuleError("a pause lasts 1 to 3 months")
    if kind is OfferKind.DISCOUNT and not (1 <= percent <= 100 and 1 <= months <= 12):
        raise CancelRuleError("a discount is 1-100 percent for 1-12 months")
    if kind is OfferKind.CHEAPER_PLAN:
        if plan is None:
            raise CancelRuleError("a cheaper plan names its plan (printable characters)")
        if price is None:
            raise CancelRuleError("a cheaper plan's price is an integer of minor units")
        return SaveOffer(offer_id, kind, plan=plan, price=price)
    return SaveOffer(offer_id, kind, percent=percent if kind is OfferKind.DISCOUNT else 0, months=months)


@dataclass(frozen=True)
class Flow:
    """A business's flow: the reasons asked (in order), the offers each reason may be shown (one
    arm per offer, assigned sticky per subscription), the holdout share shown no offer, and the
    most offers that may be accepted (None: no limit)."""

    reasons: tuple[Reason, ...] = tuple(Reason)
    offers: dict[Reason, tuple[SaveOffer, ...]] = field(default_factory=dict)
    holdout_percent: int = 10
    budget: int | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS
    embed_origins: tuple[str, ...] = ()  # pages that may show the hosted flow in a frame

    def to_raw(self) -> dict:
        return {
            "reasons": [str(r) for r in self.reasons],
            "offers": {str(r): [o.to_raw() for o in arms] for r, arms in self.offers.items()},
            "holdout_percent": self.holdout_percent,
            "budget": self.budget,
            "retention_days": self.retention_days,
            "embed_origins": list(self.embed_origins),
        }


DEFAULT_FLOW = Flow(
    offers={
        Reason.TOO_EXPENSIVE: (SaveOffer("discount-25-3", OfferKind.DISCOUNT, percent=25, months=3),),
        Reason.UNUSED: (SaveOffer("pause-2", OfferKind.PAUSE, months=2),),
    }
)


def build_flow(
    reasons: tuple[Reason, ...],
    offers: dict[Reason, tuple[SaveOffer, ...]],
    holdout_percent: int = 10,
    budget: int | None = None,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    embed_origins: tuple[str, ...] | list[str] = (),
) -> Flow:
    """A flow the rules allow, from typed values (`cancel.contracts.CancelFlow` checks each)."""
    if not 1 <= len(reasons) <= MAX_REASONS or len(set(reasons)) != len(reasons):
        raise CancelRuleError(f"reasons: 1 to {MAX_REASONS} different reasons")
    if not all(reason in reasons for reason in offers):
        raise CancelRuleError("offers: reason -> list of offers, for reasons the flow asks")
    if offers.get(Reason.SWITCHED_SERVICE):
        raise CancelRuleError("someone who switched gets a clean exit, no offer")
    # Reports, webhooks (`arm`) and the Stripe recipe key offers by id: an id names one offer, one
    # arm of a reason (another reason may show the same offer under its id).
    named: dict[str, SaveOffer] = {}
    for arms in offers.values():
        ids = [offer.offer_id for offer in arms]
        for offer in arms:
            if ids.count(offer.offer_id) > 1 or named.setdefault(offer.offer_id, offer) != offer:
                raise CancelRuleError(f"offers: the offer id {offer.offer_id} names two offers")
    if retention_days < DEFAULT_RETENTION_DAYS:
        raise CancelRuleError(f"retention_days is at least {DEFAULT_RETENTION_DAYS} (3 years)")
    origins = tuple(dict.fromkeys(embed_origin(origin) for origin in embed_origins))
    return Flow(tuple(reasons), dict(offers), holdout_percent, budget, retention_days, origins)


def flow_from_raw(raw: dict) -> Flow:
    """A flow as stored (`Flow.to_raw`, checked when it was set); a key an older version did not
    store takes its default."""
    offers = {
        Reason(reason): tuple(
            save_offer(
                o["offer_id"],
                OfferKind(o["kind"]),
                o.get("percent", 0),
                o.get("months", 0),
                o.get("plan"),
                o.get("price"),
            )
            for o in arms
        )
        for reason, arms in raw.get("offers", {}).items()
    }
    return Flow(
        tuple(Reason(r) for r in raw.get("reasons", [*Reason])),
        offers,
        raw.get("holdout_percent", 10),
        raw.get("budget"),
        raw.get("retention_days", DEFAULT_RETENTION_DAYS),
        tuple(raw.get("embed_origins", ())),
    )


MAX_EMBED_ORIGINS = 10
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")


def embed_origin(value: str) -> str:
    """An origin allowed to frame the hosted page (its CSP `frame-ancestors`): scheme and host
    only, in the form browsers compare (lower case, no default port)."""
    parts = urlsplit(value) if len(value) <= 300 else None
    netloc = parts.netloc.lower() if parts else ""
    if not parts or parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query:
        raise CancelRuleError(f"{value!r} is not an origin like https://shop.example.com")
    if not _HOST.match(netloc) or parts.fragment:
        raise CancelRuleError(f"{value!r} is not an origin like https://shop.example.com")
    return f"{parts.scheme}://{netloc.removesuffix({'http': ':80', 'https': ':443'}[parts.scheme])}"


# Control characters (Unicode Cc) but tab and newline: a stray NUL or escape in a typed answer is
# dropped, not refused, before the comment is stored and sent on (webhook, Stripe's comment).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Answer:
    reason: Reason | None = None
    comment: str | None = None


def parse_answer(flow: Flow, reason, comment) -> Answer:
    """What step 1 posted: every part optional; a reason only among the flow's."""
    reason = reason or None
    if reason is not None and reason not in {str(r) for r in flow.reasons}:
        raise CancelRuleError("choose one of the listed reasons, or none")
    comment = _CONTROL.sub("", comment or "").strip() or None
    if comment and len(comment) > COMMENT_LIMIT:
        raise CancelRuleError(f"the comment is longer than {COMMENT_LIMIT} characters")
    return Answer(Reason(reason) if reason else None, comment)


@dataclass(frozen=True)
class SessionRequest:
    business: str
    customer_id: str
    subscription_id: str
    plan: str
    price: int
    currency: str
    tenure_months: int
    locale: str
    return_url: str
    effective_date: date


def admitted(request: SessionRequest, today: date) -> SessionRequest:
    """`request` when the rules allow it (`cancel.contracts.CancelSession` checked each field):
    its effective date is today or later."""
    if request.effective_date < today:
        raise CancelRuleError("effective_date is today or later")
    return request


@dataclass(frozen=True)
class Session:
    session_id: str
    request: SessionRequest
    flow: Flow
    created_at: datetime
    link_expires_at: datetime
    status: Status = Status.OPEN
    answer: Answer = Answer()
    answered_at: datetime | None = None
    arm: str | None = None  # the offer id shown, HOLDOUT, or NO_OFFER
    offer: SaveOffer | None = None
    offer_shown_at: datetime | None = None
    decided_at: datetime | None = None  # cancelled or saved
    undone_at: datetime | None = None
    version: int = 0

    @property
    def finished(self) -> bool:
        return self.status is not Status.OPEN

    def undo_until(self) -> datetime:
        """Undo works until the start of the effective date (UTC)."""
        day = self.request.effective_date
        return datetime(day.year, day.month, day.day, tzinfo=self.created_at.tzinfo)


class Tally(StrEnum):
    """The counters a change moves on its (reason, arm) row, for the save-rate report."""

    SESSIONS = "sessions"  # reached the reason step's answer (an arm was assigned)
    SAVED = "saved"
    CANCELLED = "cancelled"
    UNDONE = "undone"


@dataclass(frozen=True)
class Change:
    session: Session
    expected_version: int
    events: tuple[Event, ...] = ()
    spends_budget: bool = False
    tallies: tuple[Tally, ...] = ()
    on: date | None = None  # the day the tallies count on (UTC), for reasons over time
    value_given: int = 0  # minor units of the session's currency an accepted offer gives away


def value_given(offer: SaveOffer, price: int) -> int:
    """What accepting `offer` gives away, in minor units of the subscription's currency (rounded
    down, integers only): a discount, its percent of the price for each of its months; a pause,
    the price of each paused month; a cheaper plan, the difference for a year of monthly bills."""
    if offer.kind is OfferKind.DISCOUNT:
        return price * offer.percent * offer.months // 100
    if offer.kind is OfferKind.PAUSE:
        return price * offer.months
    return max(0, price - (offer.price or 0)) * 12


@dataclass(frozen=True)
class Settled:
    """Nothing to write: the session already is where this request would take it, or past it."""

    session: Session


class Refused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def open_session(request: SessionRequest, flow: Flow, session_id: str, now: datetime) -> Session:
    return Session(session_id, request, flow, now, now + DEFAULT_LINK_TTL)


def _bucket(*parts: str) -> float:
    """A stable number in [0, 1) for the parts: the same subscription gets the same arm."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose_offer(session: Session, reason: Reason | None) -> tuple[str, SaveOffer | None]:
    """(arm, offer): no reason or no offer for it -> no offer; the sticky holdout is taken before
    the arm, so the holdout's share is the same whatever offers a reason has."""
    arms = session.flow.offers.get(reason, ()) if reason else ()
    if not arms:
        return NO_OFFER, None
    request = session.request
    if _bucket("holdout", request.business, request.subscription_id) * 100 < session.flow.holdout_percent:
        return HOLDOUT, None
    index = int(_bucket("arm", request.business, request.subscription_id, str(reason)) * len(arms))
    return arms[index].offer_id, arms[index]


def settled(session: Session, wanted: Status) -> bool:
    """Whether a request for `wanted` has nothing left to do: any finished session stays as it
    is (a saved one is never cancelled by a late click, nor a cancelled one saved)."""
    return session.finished and not (wanted is Status.UNDONE and session.status is Status.CANCELLED)


def _answered(session: Session, answer: Answer | None, now: datetime) -> Session:
    if session.answered_at is not None or answer is None or answer == Answer():
        return session
    return replace(session, answer=answer, answered_at=now)


def plan_continue(session: Session, answer: Answer, now: datetime) -> Change | Settled:
    """Step 1's "Continue": record the answer and show the one offer routed by it; when there is
    none (no reason, a reason without offers, the holdout) the session is cancelled at once."""
    if settled(session, Status.CANCELLED) or session.offer_shown_at is not None:
        return Settled(session)
    arm, offer = choose_offer(session, answer.reason)
    new = replace(_answered(session, answer, now), arm=arm, version=session.version + 1)
    if offer is None:
        new = replace(new, status=Status.CANCELLED, decided_at=now)
        tallies = (Tally.SESSIONS, Tally.CANCELLED)
        return Change(new, session.version, (Event.COMPLETED,), tallies=tallies, on=now.date())
    shown = replace(new, offer=offer, offer_shown_at=now)
    return Change(shown, session.version, tallies=(Tally.SESSIONS,), on=now.date())


def plan_cancel(session: Session, answer: Answer | None, now: datetime) -> Change | Settled:
    """The cancel button, on step 1 or beside the offer: cancelled at once."""
    if settled(session, Status.CANCELLED):
        return Settled(session)
    new = _answered(session, answer, now)
    new = replace(new, arm=new.arm or NO_OFFER, status=Status.CANCELLED, decided_at=now, version=session.version + 1)
    tallies = (Tally.CANCELLED,) if session.arm else (Tally.SESSIONS, Tally.CANCELLED)
    return Change(new, session.version, (Event.COMPLETED,), tallies=tallies, on=now.date())


def plan_accept(session: Session, offer_id: str, now: datetime) -> Change | Settled:
    if settled(session, Status.SAVED):
        return Settled(session)
    if session.offer is None or session.offer.offer_id != offer_id:
        raise Refused("no_such_offer", "this offer was not shown in this session")
    new = replace(session, status=Status.SAVED, decided_at=now, version=session.version + 1)
    spends = session.flow.budget is not None
    given = value_given(session.offer, session.request.price)
    return Change(new, session.version, (Event.COMPLETED,), spends, (Tally.SAVED,), on=now.date(), value_given=given)


def plan_undo(session: Session, now: datetime) -> Change | Settled:
    if session.status is Status.UNDONE:
        return Settled(session)
    if session.status is not Status.CANCELLED:
        raise Refused("nothing_to_undo", "only a cancellation can be undone")
    if now >= session.undo_until():
        raise Refused("undo_window_passed", "the cancellation is already in effect")
    new = replace(session, status=Status.UNDONE, undone_at=now, version=session.version + 1)
    return Change(new, session.version, (Event.UNDONE,), tallies=(Tally.UNDONE,), on=now.date())


# "Mail me a new link": a refused link (expired, tampered with, or its session already over)
# still lets the person cancel, by asking the business to mail a fresh link. Each request is a
# webhook to the business, so they are rate-limited per session.
NEW_LINK_INTERVAL = timedelta(minutes=10)
NEW_LINK_MOST = 5


@dataclass(frozen=True)
class LinkRequestLimit:
    """A new request is recorded only if the last one is older than `last_before` and fewer than
    `most` were recorded: storage turns this into the write's condition."""

    last_before: datetime
    most: int


def link_request_limit(now: datetime) -> LinkRequestLimit:
    return LinkRequestLimit(now - NEW_LINK_INTERVAL, NEW_LINK_MOST)
