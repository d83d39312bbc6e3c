"""Imports of subscribers from a CSV, of any size: read in the file's own dialect, applied in
chunks under an import id (resumable, nothing applied twice), and reported exactly: applied,
already there, refused (each refused row with its line and reason).

Each row is decided by the domain's one rule for subscribing (`consent.plan_subscribe`): someone
who unsubscribed before is refused, never subscribed again by an import.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.core.errors import Invalid
from chalicelib.core.ids import InvalidEmail, is_id, normalize_email, subscriber_id_for
from chalicelib.core.settings import get_settings
from chalicelib.domain import consent
from chalicelib.domain.consent import AuditContext, Source
from chalicelib.storage import imports as stored
from chalicelib.storage import lists

CHUNK_ROWS = 25  # rows per transaction: 3 items a subscribe + 16 counter shards + 2 stay under 100
READ_ROWS = 100  # subscriptions read in one batch
ATTEMPTS = 3
DELIMITERS = (",", ";", "\t")
ADDRESS_HEADERS = ("email", "emailaddress")  # `Email`, `E-mail Address`, `email_address`, ...
BACKGROUND_MARGIN_SECONDS = 10  # a background run stops this long before its function's timeout

BAD_EMAIL, PREVIOUSLY_UNSUBSCRIBED, DUPLICATE = "bad_email", "previously_unsubscribed", "duplicate"
OPTED_OUT_EVERYWHERE = "opted_out_everywhere"


@dataclass(frozen=True)
class Rows:
    """A CSV's address column: (line, value) for each row, with the column's header."""

    column: str
    delimiter: str
    rows: list[tuple[int, str]]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.rows).encode()).hexdigest()


def _header_key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


def _delimiter(text: str) -> str:
    """The delimiter of the header line: the one of comma, semicolon or tab it uses most."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(text: str, column: str | None = None) -> Rows:
    """The address column of a CSV: comma, semicolon or tab separated (sniffed from the header
    line), with or without a UTF-8 byte order mark; the column is `column` when given, else the
    one headed `email`, `Email`, `E-mail Address` or `Email Address` (case and spaces aside)."""
    text = text.removeprefix("\ufeff")
    delimiter = _delimiter(text)
    # strict: a quote never closed is an error at the end, not the rest of the file as one field
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    started = 1  # the line the record being read began on
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise Invalid("bad_csv", "the CSV is empty: it needs a header row naming the address column")
        names = [_header_key(name) for name in header]
        wanted = (_header_key(column),) if column else ADDRESS_HEADERS
        index = next((i for i, name in enumerate(names) if name and name in wanted), None)
        if index is None:
            shown = ", ".join(repr(name.strip()) for name in header[:10])
            asked = f"no column {column!r}" if column else "no address column (email, E-mail Address, ...)"
            raise Invalid("bad_csv", f"the CSV has {asked}; its header row has {shown}: name the column with --column")
        rows = []
        started = reader.line_num + 1
        for row in reader:
            address = row[index] if index < len(row) else ""
            if "\n" in address or "\r" in address:
                raise Invalid(
                    "bad_csv",
                    f"the record starting on line {started} runs on to line {reader.line_num}, its address "
                    "spanning lines (a quote opened and not closed?): fix the quotes; nothing was imported",
                )
            if any(cell.strip() for cell in row):
                rows.append((started, address))  # a record spanning lines is cited by its first
            started = reader.line_num + 1
    except csv.Error as error:
        raise Invalid(
            "bad_csv",
            f"the CSV could not be read from line {started} on ({error}): fix the quotes; nothing was imported",
        ) from error
    return Rows(header[index].strip(), delimiter, rows)


@dataclass(frozen=True)
class Row:
    line: int
    subscriber_id: str | None = None
    address: str | None = None
    refusal: tuple[str, str | None] | None = None  # (reason, detail) known from the file alone


def _prepared(rows: list[tuple[int, str]]) -> list[Row]:
    """Each row's address and subscriber, or why the file alone refuses it (a bad address, the
    same person as an earlier row)."""
    key = get_settings().subscriber_id_key
    first_line: dict[str, int] = {}
    prepared = []
    for line, value in rows:
        try:
            address = normalize_email(value)
        except InvalidEmail:
            prepared.append(Row(line, refusal=(BAD_EMAIL, "not a valid email address")))
            continue
        sid = subscriber_id_for(key, address)
        if sid in first_line:
            prepared.append(Row(line, refusal=(DUPLICATE, f"the same address as line {first_line[sid]}")))
            continue
        first_line[sid] = line
        prepared.append(Row(line, sid, address))
    return prepared


def _list_id(list_id) -> str:
    if not is_id(list_id):
        raise Invalid("bad_list", "list_id must be 1-64 letters, digits, '-' or '_'")
    return list_id


def import_id_of(value, rows: Rows) -> str:
    """The import id asked for, or one derived from the rows: the same file resumes by itself."""
    if value in (None, ""):
        return rows.fingerprint[:16]
    if not is_id(value):
        raise Invalid("bad_import_id", "import_id must be 1-64 letters, digits, '-' or '_'")
    return value


def _plan(
    chunk: stored.Chunk, rows: list[Row], states: dict, profiles: dict, list_id: str, now: datetime, due: datetime
) -> None:
    ctx = AuditContext(source=Source.IMPORT)
    for row in rows:
        if row.refusal is not None:
            chunk.refused.append((row.line, *row.refusal))
            continue
        profile = profiles.get(row.subscriber_id, consent.NO_PROFILE)
        plan = consent.plan_subscribe(states[row.subscriber_id], list_id, row.address, ctx, now, due, profile=profile)
        if plan.applied:
            chunk.plans.append((row.subscriber_id, plan))
            chunk.applied += 1
        elif plan.outcome == consent.Outcome.PREVIOUSLY_UNSUBSCRIBED:
            chunk.refused.append((row.line, *_why_left(profile)))
        else:
            chunk.already_there += 1


def _why_left(profile) -> tuple[str, str]:
    if profile.opted_out_all:
        return OPTED_OUT_EVERYWHERE, "stopped every list (or complained, or was erased): only they can come back"
    return PREVIOUSLY_UNSUBSCRIBED, "unsubscribed before: only they can come back"


def _apply_chunk(
    list_id: str, import_id: str, first: int, rows: list[Row], states: dict, profiles: dict, last: bool
) -> None:
    """Plan rows [first, first + len(rows)) from `states` and commit them as one chunk; planned
    again from what changed when a subscription changed meanwhile."""
    from chalicelib.core.sunset_policy import first_due, parse_policy
    from chalicelib.storage.subscribers import ConcurrentChange

    for _ in range(ATTEMPTS):
        now = datetime.now(UTC)
        due = first_due(parse_policy(lists.sunset_policy_of(list_id)), now)
        no_profile = {row.subscriber_id for row in rows if row.subscriber_id not in profiles}
        chunk = stored.Chunk(first, first + len(rows), no_profile=no_profile)
        _plan(chunk, rows, states, profiles, list_id, now, due)
        stale = stored.commit_chunk(list_id, import_id, chunk, now, last)
        if stale is None:
            return
        states, profiles = {**states, **stale.subscriptions}, {**profiles, **stale.profiles}
    raise ConcurrentChange()


def run(
    list_id: str,
    import_id: str,
    rows: Rows,
    source: str,
    progress: Callable[[int], None] | None = None,
    deadline: float | None = None,
) -> stored.Progress:
    """Apply the rows not applied yet, chunk by chunk, until done or `deadline` (a
    `time.monotonic()` value) has passed; `progress(n)` hears of each chunk's rows, first of
    the rows an earlier run did. Returns the import as stored."""
    list_id = _list_id(list_id)
    lists.existing_list(list_id)
    started = stored.start(list_id, import_id, rows.fingerprint, len(rows.rows), source, rows.column, datetime.now(UTC))
    position = started.next_row
    if progress and position:
        progress(position)
    prepared = _prepared(rows.rows)
    total, states, profiles, read_until = len(prepared), {}, {}, position
    while position < total and (deadline is None or time.monotonic() < deadline):
        if position >= read_until:
            read_until = position + READ_ROWS
            window = prepared[position:read_until]
            states, profiles = stored.subscription_states(
                list_id, [r.subscriber_id for r in window if r.refusal is None]
            )
        part = prepared[position : min(position + CHUNK_ROWS, read_until)]
        try:
            _apply_chunk(list_id, import_id, position, part, states, profiles, last=position + len(part) == total)
            moved_to = position + len(part)
        except stored.MovedOn:
            # The chunk was written meanwhile: by an earlier attempt of this very request that
            # timed out and landed, or by another run of the import. Go on from the record.
            moved_to, read_until = stored.get(list_id, import_id).next_row, 0
        if progress:
            progress(max(moved_to - position, 0))
        position = moved_to
    return stored.get(list_id, import_id)


def report(list_id, import_id, after_line: int = 0, limit: int | None = None) -> dict:
    """The import as it stands: status, rows done, counts, and its refused rows by line (all of
    them, or a page of `limit` after `after_line` with the line to continue after)."""
    list_id = _list_id(list_id)
    if not is_id(import_id):
        raise Invalid("bad_import_id", "import_id must be 1-64 letters, digits, '-' or '_'")
    state = stored.get(list_id, import_id)
    refused, after = [], after_line
    while True:
        page, after = stored.refused_rows(list_id, import_id, after, limit or 1000)
        refused += page
        if limit is not None or after is None:
            break
    return {
        "import_id": import_id,
        "list_id": list_id,
        "status": state.status,
        "rows": state.rows,
        "rows_done": state.next_row,
        "counts": {"applied": state.applied, "already_there": state.already_there, "refused": state.refused},
        "refused_rows": refused,
        **({"refused_rows_after": after} if limit is not None else {}),
        "column": state.column,
        "started_at": state.started_at.isoformat(),
        "finished_at": state.finished_at.isoformat() if state.finished_at else None,
    }


# In the background: an import that cannot finish within a request goes on from the
# unsubscribe queue (its worker function), one run per message until the function's time is
# nearly up, then a message to continue.


def continue_in_background(list_id: str, import_id: str, rows: Rows) -> bool:
    """Keep the rows and queue the rest of the import; False when no queue is configured."""
    url = get_settings().unsubscribe_queue_url
    if not url:
        return False
    from chalicelib.core.aws import send_messages

    stored.store_rows(list_id, import_id, rows.rows)
    send_messages(url, [{"kind": "import", "list_id": list_id, "import_id": import_id}])
    return True


def work(message: dict, remaining_ms: Callable[[], int]) -> stored.Progress:
    """One background run of an import (a queue message); queues the next run when the
    function's time is nearly up. Raises on failure: the queue delivers the message again and
    the run goes on from the import's record."""
    list_id, import_id = message["list_id"], message["import_id"]
    state = stored.get(list_id, import_id)
    if state.status == stored.DONE:
        return state
    rows = Rows(state.column or "", ",", stored.stored_rows(list_id, import_id, state.stored_rows))
    remaining = remaining_ms() / 1000
    # The margin leaves time to queue the next run; half of a short remaining time still moves on.
    deadline = time.monotonic() + max(remaining - BACKGROUND_MARGIN_SECONDS, remaining / 2)
    state = run(list_id, import_id, rows, "background", deadline=deadline)
    if state.status != stored.DONE:
        from chalicelib.core.aws import send_messages

        send_messages(get_settings().unsubscribe_queue_url, [message])
    return state


REQUEST_SECONDS = 20  # API Gateway answers 504 after 29 s: leave room for reading and answering


def import_over_http(list_id, text: str, column=None, import_id=None, background: bool = False) -> tuple[bool, dict]:
    """An import sent over HTTP: (True, its report) when it finished within the request, else
    (False, its report so far) with the rest going on in the background (or right away when the
    caller asked for that); Unavailable when there is no queue to go on from."""
    from chalicelib.core.errors import Unavailable

    list_id = _list_id(list_id)
    rows = read_csv(text, column)
    import_id = import_id_of(import_id, rows)
    deadline = time.monotonic() + (0 if background else REQUEST_SECONDS)
    state = run(list_id, import_id, rows, "api", deadline=deadline)
    if state.status == stored.DONE:
        return True, report(list_id, import_id)
    if not continue_in_background(list_id, import_id, rows):
        raise Unavailable(
            "import_unfinished",
            f"import {import_id} did {state.next_row} of {state.rows} rows in this request and no queue is "
            "configured to go on: send the same file again to continue (nothing is applied twice)",
            retry_after=1,
        )
    return False, report(list_id, import_id, limit=100)


MAX_PAGE = 1000


def page_of(after, limit) -> tuple[int, int]:
    """(after line, limit) of a status page, from query text (defaults: from the start, 100)."""
    try:
        after_line = int(after) if after not in (None, "") else 0
        size = int(limit) if limit not in (None, "") else 100
    except ValueError as error:
        raise Invalid("bad_page", "after and limit are whole numbers") from error
    if after_line < 0 or not 1 <= size <= MAX_PAGE:
        raise Invalid("bad_page", f"after is a line number, limit 1-{MAX_PAGE}")
    return after_line, size
