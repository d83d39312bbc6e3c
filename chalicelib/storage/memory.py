"""In-memory stores with the storage interfaces (`store.ConsentStore`, `store.CouponStore`,
`store.SunsetStore`), for tests: dicts behind one lock, each commit checking every precondition
exactly as the DynamoDB conditions do and writing all or nothing. The contract tests
(tests/contract) run the same assertions against these and against moto's DynamoDB."""

from __future__ import annotations

import copy
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from chalicelib.core.errors import StorageUnavailable
from chalicelib.core.ids import shard_of
from chalicelib.domain import consent
from chalicelib.domain.consent import (
    ANY,
    LISTS_PER_TRANSACTION,
    EventState,
    NumberState,
    Plan,
    ProfileState,
    ProfileWrite,
    SubscriptionState,
    SubscriptionWrite,
    Sunset,
)
from chalicelib.domain.coupons import CodeState, CounterChange, Outcome
from chalicelib.domain.coupons import Plan as CodePlan
from chalicelib.domain.sunset import KEEP, ClockItem, ClockPlan, SunsetState, UnsubscribePlan, holds
from chalicelib.storage.lists import UnknownList
from chalicelib.storage.store import (
    Acted,
    CandidateChunk,
    CodeChanged,
    DueSubscription,
    Recorded,
    Stale,
    SunsetRun,
)
from chalicelib.storage.subscribers.models import due_key, due_partition, list_key
from chalicelib.storage.sunset_runs import LIST_COUNTS, OUTCOMES

# Consent


@dataclass
class _Subscription:
    list_id: str
    status: str | None = None
    last_event: str | None = None
    subscribed_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    paused_until: datetime | None = None
    email: str | None = None
    frequency: str | None = None
    last_engaged_at: datetime | None = None
    sends_since_engaged: int | None = None
    sunset_due: str | None = None
    sunset_state: str | None = None
    pending_since: datetime | None = None
    reminder_sent_at: datetime | None = None

    def state(self) -> SubscriptionState:
        return SubscriptionState(
            self.list_id,
            consent.Status(self.status) if self.status else None,
            self.last_event,
            self.paused_until,
            self.frequency,
            None,
            self.sunset_due,
            self.sunset_state,
            self.reminder_sent_at is not None,
        )


@dataclass
class _Profile:
    email: str | None = None
    created_at: datetime | None = None
    opted_out_all: bool | None = None
    opted_out_event: str | None = None
    opted_out_source: str | None = None
    suppressed_channels: set[str] = field(default_factory=set)
    undone: set[str] = field(default_factory=set)
    sms_keyword_at: datetime | None = None
    erased_at: datetime | None = None

    def state(self) -> ProfileState:
        return ProfileState(
            bool(self.opted_out_all),
            self.opted_out_event,
            frozenset(self.suppressed_channels),
            frozenset(self.undone),
            self.email,
            self.opted_out_source,
        )

    def number(self) -> NumberState:
        return NumberState(consent.SMS in self.suppressed_channels, self.sms_keyword_at)


def _profile_holds(write: ProfileWrite, profile: _Profile | None) -> bool:
    """`changes._profile_condition`, over the item as held (a missing item has no attributes)."""
    held = profile or _Profile()
    if write.expect_opted_out is True and held.opted_out_all is not True:
        return False
    if write.expect_opted_out is False and held.opted_out_all is True:
        return False
    if write.expect_opted_out_event is not None and held.opted_out_event != write.expect_opted_out_event:
        return False
    if write.expect_not_undone is not None and write.expect_not_undone in held.undone:
        return False
    if write.expect_not_suppressed is not None and write.expect_not_suppressed in held.suppressed_channels:
        return False
    if write.expect_suppressed is not None and write.expect_suppressed not in held.suppressed_channels:
        return False
    before = write.expect_keyword_before
    return before is None or held.sms_keyword_at is None or held.sms_keyword_at < before


def _write_profile(profile: _Profile, write: ProfileWrite) -> None:
    """`changes._profile_actions`."""
    if write.opted_out_all is not None:
        profile.opted_out_all = write.opted_out_all
    if write.opted_out_event is not None:
        profile.opted_out_event = write.opted_out_event
    if write.opted_out_source is not None:
        profile.opted_out_source = write.opted_out_source
    if write.add_undone is not None:
        profile.undone.add(write.add_undone)
    if write.suppress is not None:
        profile.suppressed_channels.add(write.suppress)
    if write.unsuppress is not None:
        profile.suppressed_channels.discard(write.unsuppress)
    if write.keyword_at is not None:
        profile.sms_keyword_at = write.keyword_at
    if write.email is not None:
        profile.email = write.email
    if write.created_at is not None and profile.created_at is None:
        profile.created_at = write.created_at


def _leave_sunset(item: _Subscription, keep_reminder: bool) -> None:
    item.sunset_due = item.sunset_state = item.pending_since = None
    if not keep_reminder:
        item.reminder_sent_at = None


def _restart_sunset(item: _Subscription, subscriber_id: str, due: datetime) -> None:
    item.sunset_due = due_key(due, subscriber_id)
    item.sends_since_engaged = 0
    item.sunset_state = item.pending_since = item.reminder_sent_at = None


def _write_subscription(item: _Subscription, subscriber_id: str, write: SubscriptionWrite, event_key: str) -> None:
    """`changes._actions`."""
    item.last_event = event_key
    if write.status == consent.UNSUBSCRIBED:
        item.status, item.unsubscribed_at, item.paused_until = str(write.status), write.at, None
    elif write.status == consent.ACTIVE:
        item.status, item.unsubscribed_at, item.paused_until = str(write.status), None, None
        if write.joined:
            item.subscribed_at, item.email = write.at, write.email
    elif write.status == consent.PAUSED:
        item.status, item.paused_until = str(write.status), write.paused_until
    if write.frequency is not ANY:
        item.frequency = write.frequency
    if write.sunset in (Sunset.LEAVE, Sunset.LEAVE_KEEPING_REMINDER):
        _leave_sunset(item, keep_reminder=write.sunset == Sunset.LEAVE_KEEPING_REMINDER)
    elif write.sunset == Sunset.RESTART:
        _restart_sunset(item, subscriber_id, write.sunset_due)


@dataclass(frozen=True)
class _Event:
    state: EventState
    source: str


class MemoryConsentStore:
    """The consent store in dicts. One lock makes each commit atomic, as a DynamoDB transaction is."""

    def __init__(self):
        self._lock = threading.Lock()
        self._lists: set[str] = set()
        self._subscriptions: dict[str, dict[str, _Subscription]] = {}
        self._profiles: dict[str, _Profile] = {}
        self._events: dict[str, dict[str, _Event]] = {}
        self._members: Counter[str] = Counter()
        self._leaving: dict[tuple[str, str], Counter[str]] = {}

    def add_list(self, list_id: str, name: str) -> None:
        with self._lock:
            self._lists.add(list_id)

    def subscription(self, subscriber_id: str, list_id: str) -> SubscriptionState:
        with self._lock:
            item = self._subscriptions.get(subscriber_id, {}).get(list_id)
            return item.state() if item else SubscriptionState(list_id)

    def profile(self, subscriber_id: str) -> ProfileState | None:
        with self._lock:
            profile = self._profiles.get(subscriber_id)
            return profile.state() if profile else None

    def everything(self, subscriber_id: str) -> tuple[ProfileState | None, list[SubscriptionState]]:
        with self._lock:
            profile = self._profiles.get(subscriber_id)
            held = self._subscriptions.get(subscriber_id, {})
            return (profile.state() if profile else None), [held[k].state() for k in sorted(held)]

    def event(self, subscriber_id: str, key: str) -> EventState | None:
        with self._lock:
            found = self._events.get(subscriber_id, {}).get(key)
            return found.state if found else None

    def trail(self, subscriber_id: str) -> list[Recorded]:
        with self._lock:
            events = self._events.get(subscriber_id, {})
            return [
                Recorded(key, e.state.action, e.state.list_id, e.source, e.state.at)
                for key, e in sorted(events.items())
            ]

    def commit(self, subscriber_id: str, plan: Plan, now: datetime, also=None) -> Stale | None:
        """`also()` writes a job's own items with the first part (`changes.commit_plan`'s `also`)."""
        if not plan.applied and not plan.writes and plan.profile is None:
            return None
        for number, part in enumerate(consent.chunks(plan.writes, LISTS_PER_TRANSACTION)):
            first = number == 0
            if not first and not part:
                continue
            with self._lock:
                stale = self._commit_part(subscriber_id, plan, part, first, now)
                if stale is None and first and also is not None:
                    also()
            if stale is _LANDED:
                continue
            if stale is not None:
                return stale
        return None

    def _commit_part(self, subscriber_id: str, plan: Plan, part: list, first: bool, now: datetime):
        """One transaction: every condition checked first, then everything written (or nothing)."""
        held = self._subscriptions.setdefault(subscriber_id, {})
        profile = self._profiles.get(subscriber_id)
        events = self._events.setdefault(subscriber_id, {})
        if first and plan.list_must_exist is not None and plan.list_must_exist not in self._lists:
            raise UnknownList(plan.list_must_exist)
        if first and plan.event is not None and plan.event.key in events:
            return _LANDED  # our own event exists: an earlier attempt of this very plan landed
        profile_failed = first and plan.profile is not None and not _profile_holds(plan.profile, profile)
        as_held = {
            w.list_id: held[w.list_id].state() if w.list_id in held else SubscriptionState(w.list_id) for w in part
        }
        failed = {w.list_id: as_held[w.list_id] for w in part if not w.expect.holds(as_held[w.list_id])}
        if failed or profile_failed:
            return Stale(
                first,
                failed,
                (profile.state() if profile else consent.NO_PROFILE) if profile_failed else None,
                (profile.number() if profile else NumberState()) if profile_failed else None,
            )
        if first and plan.profile is not None:
            _write_profile(self._profiles.setdefault(subscriber_id, _Profile()), plan.profile)
        if first and plan.event is not None:
            event = plan.event
            events[event.key] = _Event(
                EventState(
                    event.key,
                    str(event.action),
                    event.list_id,
                    event.at,
                    tuple(event.lists or ()),
                    event.frequency,
                    event.frequency_before,
                    str(event.context.source),
                ),
                str(event.context.source),
            )
        counts = list(plan.counts) if first else []
        for write in part:
            item = held.setdefault(write.list_id, _Subscription(write.list_id))
            _write_subscription(item, subscriber_id, write, plan.event_key)
            self._members[write.list_id] += write.members
            counts += write.counts
        if plan.count_scope is not None and counts:
            self._leaving.setdefault((plan.count_scope, f"{now:%Y-%m}"), Counter()).update(counts)
        return None

    def record_engagement(self, subscriber_id: str, list_id: str, at: datetime, sunset_due: datetime) -> bool:
        with self._lock:
            item = self._subscriptions.get(subscriber_id, {}).get(list_id)
            if item is None or item.status not in consent.RECEIVING:
                return False
            if item.last_engaged_at is not None and item.last_engaged_at >= at:
                return False
            item.last_engaged_at = at
            _restart_sunset(item, subscriber_id, sunset_due)
            return True

    def members(self, list_id: str) -> int:
        with self._lock:
            return self._members[list_id]

    def leaving_counts(self, list_id: str, first_month: str, last_month: str) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                month: dict(counts)
                for (scope, month), counts in sorted(self._leaving.items())
                if scope == list_id and first_month <= month <= last_month and counts
            }

    def forget(self, subscriber_id: str, now: datetime) -> dict:
        with self._lock:
            profile = self._profiles.get(subscriber_id) or _Profile()
            self._profiles[subscriber_id] = _Profile(
                opted_out_all=True, suppressed_channels=set(profile.suppressed_channels), erased_at=now
            )
            held = self._subscriptions.get(subscriber_id, {})
            for list_id, item in held.items():
                held[list_id] = _Subscription(
                    list_id, str(consent.UNSUBSCRIBED), unsubscribed_at=item.unsubscribed_at or now
                )
            events = self._events.pop(subscriber_id, {})
            return {
                "subscriber_id": subscriber_id,
                "lists_kept_as_unsubscribed": len(held),
                "events_deleted": len(events),
            }


_LANDED = object()


# Coupons


class MemoryCouponStore:
    """The coupon store in dicts: codes, visitors' states with their versions, counters. One lock
    makes each commit atomic; every condition is checked before anything is written."""

    def __init__(self):
        self._lock = threading.Lock()
        self._codes: dict[str, CodeState] = {}
        self._visitors: dict[str, tuple[int, dict]] = {}  # key -> (version, campaign states)
        self._counters: dict[tuple[str, str, str], dict[str, int]] = {}  # (site, campaign, item)
        self._rates: Counter[str] = Counter()

    def code(self, code: str) -> CodeState | None:
        with self._lock:
            return self._codes.get(code)

    def visitor(self, site_key: str, visitor_id: str):
        from chalicelib.storage.offers import VisitorState, visitor_key

        key = visitor_key(site_key, visitor_id)
        with self._lock:
            if key not in self._visitors:
                return None
            version, campaigns = self._visitors[key]
            return VisitorState(key, "STATE", campaigns=dict(campaigns), version=version)

    def _counter(self, name: str, code: CodeState, day: str | None = None, customer: str | None = None) -> dict:
        """The counter a plan's name stands for (`offers._counter`)."""
        item = {"total": "TOTAL", "day": f"DAY#{day}", "arm": f"ARM#{code.variant_id}"}.get(name)
        if name == "customer":
            item = f"CUSTOMER#{customer}"
        if item is None:
            raise ValueError(name)
        return self._counters.setdefault((code.site_key, code.campaign_id, item), {})

    @staticmethod
    def _add(counter: dict, change: CounterChange) -> None:
        for attribute, amount in change.adds.items():
            counter[attribute] = counter.get(attribute, 0) + amount

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
        from chalicelib.storage.offers import IssueRefused

        with self._lock:
            held_version = self._visitors.get(visitor.pk, (None, None))[0]
            failed = {
                "code_taken": code.code in self._codes,
                "visitor_changed": visitor.version != held_version,
                "rate_limited": self._rates[rate_key] >= rate_limit,
            }
            for change in counters:
                counter = self._counter(change.name, code, day=day)
                if not change.allows(counter):
                    failed.setdefault(str(change.refusal), True)
            refusal = next((reason for reason, did in failed.items() if did), None)
            if refusal is not None:
                raise IssueRefused(refusal)
            self._codes[code.code] = code
            visitor.version = (held_version or 0) + 1  # as PynamoDB moves the local version
            self._visitors[visitor.pk] = (visitor.version, dict(visitor.campaigns or {}))
            for change in counters:
                self._add(self._counter(change.name, code, day=day), change)
            self._rates[rate_key] += 1

    def commit_code_change(self, plan: CodePlan) -> Outcome | CodeChanged | None:
        before, after = plan.code, plan.new
        redemption = after.redeemed or before.redeemed
        with self._lock:
            current = self._codes.get(before.code)
            if before.redeemed is None:
                holds = (
                    current is not None and current.redeemed is None and len(current.rollbacks) == len(before.rollbacks)
                )
            else:
                holds = (
                    current is not None
                    and current.redeemed is not None
                    and (current.redeemed.at, current.redeemed.order_ref)
                    == (before.redeemed.at, before.redeemed.order_ref)
                )
            if not holds:
                return CodeChanged(current)
            counters = [
                (change, self._counter(change.name, before, customer=redemption.customer)) for change in plan.counters
            ]
            refused = next((change for change, counter in counters if not change.allows(counter)), None)
            if refused is not None:
                return plan.refusal_for(refused.name)
            added = after.rollbacks[len(before.rollbacks) :]
            self._codes[before.code] = replace(current, redeemed=after.redeemed, rollbacks=(*current.rollbacks, *added))
            for change, counter in counters:
                self._add(counter, change)
            return None

    def campaign_counts(self, site_key: str, campaign_id: str) -> dict[str, dict[str, int]]:
        with self._lock:
            return {
                item: dict(values)
                for (site, campaign, item), values in sorted(self._counters.items())
                if (site, campaign) == (site_key, campaign_id) and not item.startswith("CUSTOMER#") and values
            }

    def customer_redemptions(self, site_key: str, campaign_id: str, customer: str) -> int:
        with self._lock:
            return self._counters.get((site_key, campaign_id, f"CUSTOMER#{customer}"), {}).get("n", 0)


# The sunset job


class MemorySunsetStore:
    """The sunset job's storage in dicts, over the subscriptions of a `MemoryConsentStore` (the
    due index is their `sunset_due`) and behind its lock. Updates of a run that does not exist
    create it, as DynamoDB's UpdateItem does; expired chunks and counters are read like live
    ones, as DynamoDB's lazy TTL (and moto) leaves them."""

    def __init__(self, consent_store: MemoryConsentStore | None = None):
        self.consent = consent_store or MemoryConsentStore()
        self._lock = self.consent._lock
        self._runs: dict[str, dict] = {}  # run id -> attributes, as the item holds them
        self._list_counts: dict[str, dict[str, dict[str, int]]] = {}  # run id -> list -> counts
        self._chunks: dict[tuple[str, int, int], list[dict]] = {}  # (run, shard, number) -> candidates
        self._acted: dict[str, Counter[str]] = {}  # list -> counter key -> n
        self._cursor: str | None = None
        self._send_marks: set[str] = set()

    # Runs

    def create_run(self, run_id: str, days: list[str], shards: int, dry_run: bool, now: datetime) -> SunsetRun:
        with self._lock:
            if run_id in self._runs:
                raise StorageUnavailable()  # DynamoDB's refused put, as storage reports it
            self._runs[run_id] = {
                "status": "scanning",
                "dry_run": dry_run,
                "days": list(days),
                "shards": shards,
                "started_at": now,
            }
            return self._run(run_id)

    def _run(self, run_id: str) -> SunsetRun:
        held = self._runs[run_id]
        return SunsetRun(
            run_id,
            held.get("status"),
            bool(held.get("dry_run")),
            list(held.get("days") or ()),
            int(held.get("shards") or 0),
            held.get("started_at"),
            held.get("finished_at"),
            frozenset(held.get("braked_lists") or ()),
            frozenset(held.get("left_days") or ()),
            held.get("sample"),
            {name: held[name] for name in OUTCOMES if held.get(name)},
        )

    def get_run(self, run_id: str) -> SunsetRun | None:
        with self._lock:
            return self._run(run_id) if run_id in self._runs else None

    def recent_runs(self, limit: int = 20) -> list[SunsetRun]:
        with self._lock:
            return [self._run(run_id) for run_id in sorted(self._runs, reverse=True)[:limit]]

    def add_outcomes(self, run_id: str, counts: dict[str, int]) -> None:
        with self._lock:
            adds = {name: value for name, value in counts.items() if value and name in OUTCOMES}
            if adds:
                held = self._runs.setdefault(run_id, {})
                for name, value in adds.items():
                    held[name] = held.get(name, 0) + value

    def add_list_counts(self, run_id: str, list_id: str, counts: dict[str, int]) -> None:
        with self._lock:
            held = self._list_counts.setdefault(run_id, {}).setdefault(list_id, dict.fromkeys(LIST_COUNTS, 0))
            for name in LIST_COUNTS:
                held[name] += int(counts.get(name, 0))

    def list_counts(self, run_id: str) -> dict[str, dict[str, int]]:
        with self._lock:
            held = self._list_counts.get(run_id, {})
            return {list_id: dict(held[list_id]) for list_id in sorted(held)}

    def finish_phase(self, run_id: str, phase: str, shard: int) -> int | None:
        attribute = {"scanned": "scanned_shards", "acted": "acted_shards"}[phase]
        with self._lock:
            held = self._runs.setdefault(run_id, {})
            done = held.setdefault(attribute, set())
            if shard in done:
                return None
            done.add(shard)
            return len(done)

    def update_run(self, run_id: str, **values) -> None:
        with self._lock:
            held = self._runs.setdefault(run_id, {})
            for name, value in values.items():
                if name not in _RUN_ATTRIBUTES:
                    raise AttributeError(name)  # as `getattr(Run, name)` does
                held[name] = copy.deepcopy(value)

    def add_left_days(self, run_id: str, days: set[str]) -> None:
        if days:
            with self._lock:
                self._runs.setdefault(run_id, {}).setdefault("left_days", set()).update(days)

    # Chunks

    def save_chunk(self, run_id: str, shard: int, number: int, candidates: list[dict], now: datetime) -> None:
        with self._lock:
            self._chunks[run_id, shard, number] = copy.deepcopy(candidates)

    def chunks(self, run_id: str, shard: int) -> list[CandidateChunk]:
        with self._lock:
            return [
                CandidateChunk(run_id, shard, number, copy.deepcopy(candidates))
                for (run, in_shard, number), candidates in sorted(self._chunks.items())
                if (run, in_shard) == (run_id, shard)
            ]

    def delete_chunk(self, chunk: CandidateChunk) -> None:
        with self._lock:
            self._chunks.pop((chunk.run_id, chunk.shard, chunk.number), None)

    # The brake's counters and the cursor

    def _count_acted(self, list_id: str, day: datetime, subscriber_id: str, kind: str, reminded_on) -> None:
        """`sunset_runs.count_acted`, under the lock of the write it belongs to."""
        on = f"{reminded_on:%Y-%m-%d}" if reminded_on and kind == "unsubscribed" else "-"
        self._acted.setdefault(list_id, Counter())[f"{day:%Y-%m-%d}#{kind}#{on}#{shard_of(subscriber_id):02d}"] += 1

    def acted_between(self, list_id: str, first: datetime, last: datetime) -> list[Acted]:
        low, high = f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}~"
        found: Counter = Counter()
        with self._lock:
            for key, n in sorted(self._acted.get(list_id, Counter()).items()):
                if low <= key <= high:
                    day, kind, on, _shard = key.split("#")
                    found[day, kind, None if on == "-" else on] += n
        return [Acted(day, kind, on, n) for (day, kind, on), n in found.items()]

    def get_cursor(self) -> str | None:
        with self._lock:
            return self._cursor

    def set_cursor(self, day: str) -> None:
        with self._lock:
            self._cursor = day

    # Subscriptions: the due index and the clock's steps

    def due_page(
        self, day: str, shard: int, last_key: dict | None, page_size: int = 200
    ) -> tuple[list[DueSubscription], dict | None]:
        """In the index's order (subscriber, then list); a key to resume after only when more
        follow (moto's; DynamoDB may also give one when a page ends the partition)."""
        partition = due_partition(day, shard)
        after = (last_key["pk"]["S"], last_key["sk"]["S"]) if last_key else None
        with self._lock:
            found = sorted(
                (subscriber_id, list_key(list_id), item)
                for subscriber_id, held in self.consent._subscriptions.items()
                for list_id, item in held.items()
                if item.sunset_due == partition
            )
            if after is not None:
                found = [f for f in found if f[:2] > after]
            page = [DueSubscription.of(subscriber_id, item) for subscriber_id, _, item in found[:page_size]]
        if len(found) <= page_size:
            return page, None
        subscriber_id, sk, _ = found[page_size - 1]
        return page, {"pk": {"S": subscriber_id}, "sk": {"S": sk}, "sunset_due": {"S": partition}}

    def commit_clock(self, plan: ClockPlan) -> bool:
        clock, write = plan.clock, plan.write
        with self._lock:
            item = self.consent._subscriptions.get(clock.subscriber_id, {}).get(clock.list_id)
            held = item or _Subscription(clock.list_id)
            as_is = ClockItem(
                consent.Status(held.status) if held.status else None,
                held.sunset_due,
                SunsetState(held.sunset_state) if held.sunset_state else None,
                held.pending_since,
                held.reminder_sent_at is not None,
            )
            if not holds(plan.expect, clock, as_is):
                return False
            item = self.consent._subscriptions.setdefault(clock.subscriber_id, {}).setdefault(clock.list_id, held)
            if write.state is not KEEP:
                item.sunset_state = str(write.state) if write.state else None
            if write.pending_since is not KEEP:
                item.pending_since = write.pending_since
            if write.reminder_sent_at is not KEEP:
                item.reminder_sent_at = write.reminder_sent_at
            if write.due is not KEEP:
                item.sunset_due = due_key(write.due, clock.subscriber_id)
            if plan.brake is not None:
                brake = plan.brake
                self._count_acted(clock.list_id, brake.day, clock.subscriber_id, brake.kind, brake.reminded_on)
            return True

    def commit_sunset_unsubscribe(self, subscriber_id: str, list_id: str, plan: UnsubscribePlan, now: datetime) -> bool:
        brake = plan.brake
        count = lambda: self._count_acted(list_id, brake.day, subscriber_id, brake.kind, brake.reminded_on)  # noqa: E731
        return plan.consent.applied and self.consent.commit(subscriber_id, plan.consent, now, also=count) is None

    def count_send(self, subscriber_id: str, list_id: str, message_id: str, now: datetime) -> str:
        with self._lock:
            if message_id in self._send_marks:
                return "duplicate"
            item = self.consent._subscriptions.get(subscriber_id, {}).get(list_id)
            if item is None or item.status not in (consent.ACTIVE, consent.PAUSED):
                return "not_subscribed"
            self._send_marks.add(message_id)
            item.sends_since_engaged = (item.sends_since_engaged or 0) + 1
            return "counted"


# What `sunset_runs.Run` holds besides its counters (the names `update_run` may set).
_RUN_ATTRIBUTES = {
    "status",
    "dry_run",
    "days",
    "shards",
    "started_at",
    "finished_at",
    "braked_lists",
    "left_days",
    "sample",
}
