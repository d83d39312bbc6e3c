"""Imports of subscribers, in the subscribers table (partition `IMPORT#<list>#<import id>`): the
import's record (`IMPORT`: its file's fingerprint, how many rows are done and their counts), one
item per refused row (`REFUSED#<line>`), and the rows themselves when an import goes on in the
background (`ROWS#<n>`, compressed).

Each chunk of rows is one transaction: the subscribes the domain planned for it (each with its
own conditions, as `subscribers.commit_plan` writes them), the list's member counters summed per
shard, the refused rows, and the record's move from the chunk's first row to the next, on the
condition that it still points at the chunk's first row. So a chunk is applied entirely or not at
all, counted with what it did, and never applied twice: a resumed import starts at the record.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.errors import Conflict, NotFound
from chalicelib.domain.consent import (
    ACTIVE,
    ANY,
    NO_PROFILE,
    Plan,
    ProfileState,
    ProfileWrite,
    SubscriptionState,
    SubscriptionWrite,
    Sunset,
)
from chalicelib.storage.lists import MailingList, UnknownList
from chalicelib.storage.subscribers.changes import (
    _actions,
    _condition,
    _old_subscription,
    _profile_actions,
    _profile_condition,
    profile_state,
    subscription_state,
)
from chalicelib.storage.subscribers.models import (
    PROFILE,
    ConsentEvent,
    ListMembers,
    Profile,
    SubscriberPartition,
    Subscription,
    consent_event,
    due_key,
    list_key,
    members_counter,
)
from chalicelib.storage.transactions import ConditionsFailed, Transaction, get_or_none, storage_errors, written

RECORD = "IMPORT"
KEPT_FOR = timedelta(days=90)  # an import's record, refused rows and stored rows expire (the table's TTL)
ROWS_PER_ITEM = 20_000  # stored rows, compressed: far under DynamoDB's 400 KB an item
RUNNING, DONE = "running", "done"


def _pk(list_id: str, import_id: str) -> str:
    return f"IMPORT#{list_id}#{import_id}"


def _refused_key(line: int) -> str:
    return f"REFUSED#{line:010d}"


class ImportRecord(SubscriberPartition):
    list_id = UnicodeAttribute()
    import_id = UnicodeAttribute()
    fingerprint = UnicodeAttribute()  # the rows' digest: a resume must bring the same file
    rows = NumberAttribute()
    next_row = NumberAttribute()  # rows [0, next_row) are done, counted and never applied again
    applied = NumberAttribute()
    already_there = NumberAttribute()
    refused = NumberAttribute()
    status = UnicodeAttribute()
    source = UnicodeAttribute()
    column = UnicodeAttribute(null=True)
    started_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    stored_rows = NumberAttribute(null=True)  # how many ROWS# items hold the rows (a background import)


class RefusedRow(SubscriberPartition):
    line = NumberAttribute()
    reason = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)


class StoredRows(SubscriberPartition):
    rows = BinaryAttribute(legacy_encoding=False)


@dataclass(frozen=True)
class Progress:
    """An import as stored."""

    list_id: str
    import_id: str
    fingerprint: str
    rows: int
    next_row: int
    applied: int
    already_there: int
    refused: int
    status: str
    column: str | None
    started_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    stored_rows: int = 0

    @classmethod
    def of(cls, item: ImportRecord) -> Progress:
        return cls(
            item.list_id,
            item.import_id,
            item.fingerprint,
            int(item.rows),
            int(item.next_row),
            int(item.applied),
            int(item.already_there),
            int(item.refused),
            item.status,
            item.column,
            item.started_at,
            item.updated_at,
            item.finished_at,
            int(item.stored_rows or 0),
        )


class OtherFile(Conflict):
    def __init__(self, import_id: str):
        super().__init__(
            "import_id_taken",
            f"import {import_id} was started with another file: resume it with that file, or pick a new id",
        )


class MovedOn(Conflict):
    """The import's record no longer points at the chunk's first row: the chunk is written already."""

    def __init__(self, import_id: str):
        super().__init__("import_running", f"import {import_id} is being run elsewhere at the same time")


@storage_errors
def start(
    list_id: str, import_id: str, fingerprint: str, rows: int, source: str, column: str, now: datetime
) -> Progress:
    """The import's record: created at row 0, or the existing one when it was started before
    with the same rows (a resume); OtherFile when it was started with other rows."""
    item = ImportRecord(
        _pk(list_id, import_id),
        RECORD,
        list_id=list_id,
        import_id=import_id,
        fingerprint=fingerprint,
        rows=rows,
        next_row=0,
        applied=0,
        already_there=0,
        refused=0,
        status=RUNNING if rows else DONE,
        source=source,
        column=column,
        started_at=now,
        updated_at=now,
        finished_at=None if rows else now,
        ttl=now + KEPT_FOR,
    )
    if written(lambda: item.save(condition=ImportRecord.pk.does_not_exist())):
        return Progress.of(item)
    existing = get_or_none(ImportRecord, _pk(list_id, import_id), RECORD)
    if existing is None or existing.fingerprint != fingerprint:
        raise OtherFile(import_id)
    return Progress.of(existing)


@storage_errors
def get(list_id: str, import_id: str) -> Progress:
    item = get_or_none(ImportRecord, _pk(list_id, import_id), RECORD)
    if item is None:
        raise NotFound("unknown_import", "there is no such import on this list")
    return Progress.of(item)


@storage_errors
def subscription_states(
    list_id: str, subscriber_ids: list[str]
) -> tuple[dict[str, SubscriptionState], dict[str, ProfileState]]:
    """The subscriptions of these subscribers to the list and their profiles, as the planner
    reads them (batched reads, 100 keys each); a subscriber without a profile is absent from the
    second map."""
    found, profiles = {}, {}
    for start_at in range(0, len(subscriber_ids), 100):
        part = subscriber_ids[start_at : start_at + 100]
        found.update({item.pk: item for item in Subscription.batch_get([(sid, list_key(list_id)) for sid in part])})
        profiles.update({item.pk: profile_state(item) for item in Profile.batch_get([(sid, PROFILE) for sid in part])})
    return {sid: subscription_state(found.get(sid), list_id) for sid in subscriber_ids}, profiles


@dataclass
class Chunk:
    """Rows [first, end) of an import as planned: the subscribes to write, and the counts and
    refused rows (line, reason, detail) of all of them."""

    first: int
    end: int
    plans: list[tuple[str, Plan]] = field(default_factory=list)
    applied: int = 0
    already_there: int = 0
    refused: list[tuple[int, str, str | None]] = field(default_factory=list)
    no_profile: set[str] = field(default_factory=set)  # subscribers read without a profile


@dataclass(frozen=True)
class Stale:
    """A chunk's subscribes whose subscription changed since it was read, as they are now, and
    the subscribers whose profile was created meanwhile."""

    subscriptions: dict[str, SubscriptionState]
    profiles: dict[str, ProfileState] = field(default_factory=dict)


def _joining(sid: str, list_id: str, write: SubscriptionWrite, event_key: str) -> Subscription | None:
    """A first subscription as one put: the item `_actions` would build on nothing (no item is
    there: its condition says so). DynamoDB writes either at the same cost; moto, which the local
    stack and the tests run on, parses update expressions slowly (an import of 10,000 rows took
    minutes). None for any other write."""
    if write.expect.statuses != frozenset({None}) or not write.joined or write.status != ACTIVE:
        return None
    if write.sunset != Sunset.RESTART or write.frequency is not ANY or write.members != 1:
        return None
    return Subscription(
        sid,
        list_key(list_id),
        list_id=list_id,
        status=str(write.status),
        last_event=event_key,
        subscribed_at=write.at,
        email=write.email,
        sunset_due=due_key(write.sunset_due, sid),
        sends_since_engaged=0,
    )


def _first_profile(sid: str, write: ProfileWrite | None) -> Profile | None:
    """A subscriber's first profile as one put (why: see `_joining`), when the write only names
    the address and the time it was first seen."""
    if write is None or write.email is None or write.created_at is None:
        return None
    if write.expect_opted_out not in (None, False):  # False holds for a profile not there yet
        return None
    if replace(write, email=None, created_at=None, expect_opted_out=None) != ProfileWrite():
        return None
    return Profile(sid, PROFILE, email=write.email, created_at=write.created_at)


@storage_errors
def commit_chunk(list_id: str, import_id: str, chunk: Chunk, now: datetime, last: bool) -> Stale | None:
    """Write a chunk (see the module's docstring); `last` marks the import done with it. `Stale`
    when subscriptions changed since they were read (nothing written: plan them again);
    MovedOn when another run wrote this chunk; UnknownList when the list is gone."""
    transaction = Transaction()
    members: Counter = Counter()
    if chunk.plans:
        transaction.check("list", MailingList, list_id, condition=MailingList.list_id.exists())
    for sid, plan in chunk.plans:
        [write] = plan.writes
        first_profile = _first_profile(sid, plan.profile) if sid in chunk.no_profile else None
        if first_profile is not None:
            transaction.put(f"profile:{sid}", first_profile, condition=Profile.pk.does_not_exist())
        elif plan.profile is not None:
            transaction.update(
                f"profile:{sid}",
                Profile(sid, PROFILE),
                _profile_actions(plan.profile),
                condition=_profile_condition(plan.profile),
                keep_old=True,
            )
        transaction.put(f"event:{sid}", consent_event(sid, plan.event), condition=ConsentEvent.sk.does_not_exist())
        joining = _joining(sid, list_id, write, plan.event_key)
        if joining is not None:
            transaction.put(f"subscription:{sid}", joining, condition=_condition(write.expect))
        else:
            transaction.update(
                f"subscription:{sid}",
                Subscription(sid, list_key(list_id)),
                actions=_actions(sid, write, plan.event_key),
                condition=_condition(write.expect),
                keep_old=True,
            )
        counter = members_counter(list_id, sid)
        members[(counter.pk, counter.sk)] += write.members
    for (pk, sk), n in sorted(members.items()):
        if n:
            transaction.update(f"members:{sk}", ListMembers(pk, sk), [ListMembers.members.add(n)])
    pk = _pk(list_id, import_id)
    for line, reason, detail in chunk.refused:
        refused = RefusedRow(pk, _refused_key(line), line=line, reason=reason, detail=detail, ttl=now + KEPT_FOR)
        transaction.put(f"refused:{line}", refused)
    actions = [
        ImportRecord.next_row.set(chunk.end),
        ImportRecord.applied.add(chunk.applied),
        ImportRecord.already_there.add(chunk.already_there),
        ImportRecord.refused.add(len(chunk.refused)),
        ImportRecord.updated_at.set(now),
    ]
    if last:
        actions += [ImportRecord.status.set(DONE), ImportRecord.finished_at.set(now)]
    transaction.update("import", ImportRecord(pk, RECORD), actions, condition=ImportRecord.next_row == chunk.first)
    try:
        transaction.commit()
    except ConditionsFailed as failed:
        if "list" in failed:
            raise UnknownList(list_id) from failed
        if "import" in failed:
            raise MovedOn(import_id) from failed
        # An update's failure names the item as it was (ALL_OLD); a first subscription's put
        # does not, so that item is read.
        stale = {
            name.partition(":")[2]: _old_subscription(raw, list_id)
            if raw
            else subscription_state(get_or_none(Subscription, name.partition(":")[2], list_key(list_id)), list_id)
            for name, raw in failed.failed.items()
            if name.startswith("subscription:")
        }
        profiles = {
            name.partition(":")[2]: profile_state(Profile.from_raw_data(raw))
            if raw
            else profile_state(get_or_none(Profile, name.partition(":")[2], PROFILE)) or NO_PROFILE
            for name, raw in failed.failed.items()
            if name.startswith("profile:")
        }
        if not stale and not profiles:
            raise
        return Stale(stale, profiles)
    return None


@storage_errors
def refused_rows(list_id: str, import_id: str, after_line: int, limit: int) -> tuple[list[dict], int | None]:
    """Refused rows after `after_line`, by line, at most `limit`; and the line to continue after
    (None: there are no more)."""
    rows = []
    query = RefusedRow.query(
        _pk(list_id, import_id), RefusedRow.sk > _refused_key(after_line), limit=limit + 1, page_size=limit + 1
    )
    for item in query:
        if not item.sk.startswith("REFUSED#"):
            break
        rows.append({"line": int(item.line), "reason": item.reason, **({"detail": item.detail} if item.detail else {})})
        if len(rows) > limit:
            break
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1]["line"] if more else None)


@storage_errors
def store_rows(list_id: str, import_id: str, rows: list[tuple[int, str]]) -> None:
    """Keep the rows of an import that goes on in the background (idempotent: the same rows)."""
    pk = _pk(list_id, import_id)
    parts = [rows[i : i + ROWS_PER_ITEM] for i in range(0, len(rows), ROWS_PER_ITEM)] or [[]]
    for number, part in enumerate(parts):
        rows_item = StoredRows(pk, f"ROWS#{number:04d}", rows=zlib.compress(json.dumps(part).encode()))
        rows_item.ttl = datetime.now(UTC) + KEPT_FOR
        rows_item.save()
    ImportRecord(pk, RECORD).update(actions=[ImportRecord.stored_rows.set(len(parts))])


@storage_errors
def stored_rows(list_id: str, import_id: str, parts: int) -> list[tuple[int, str]]:
    pk = _pk(list_id, import_id)
    rows: list[tuple[int, str]] = []
    for number in range(parts):
        item = StoredRows.get(pk, f"ROWS#{number:04d}")
        rows += [(int(line), value) for line, value in json.loads(zlib.decompress(item.rows))]
    return rows
