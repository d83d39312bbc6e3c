"""Operators' side of lists and subscribers: create a list, add one, import a CSV, export the
consent trail, find / export / erase a person, and the exit-survey report."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from chalicelib.core import consent
from chalicelib.core.errors import Conflict, Invalid, NotFound, TooLarge
from chalicelib.core.ids import InvalidEmail, is_id, normalize_email, subscriber_id_for
from chalicelib.core.settings import get_settings
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext

MAX_IMPORT_ROWS = 10_000
BRANDING_FIELDS = ("sender_name", "accent_color", "logo_url")


def _list_id(list_id) -> str:
    if not is_id(list_id):
        raise Invalid("bad_list", "list_id must be 1-64 letters, digits, '-' or '_'")
    return list_id


def create_list(list_id, name, description=None, branding=None) -> dict:
    list_id = _list_id(list_id)
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 200:
        raise Invalid("bad_name", "name must be 1-200 characters")
    if description is not None and (not isinstance(description, str) or len(description) > 2000):
        raise Invalid("bad_description", "description must be a string of at most 2000 characters")
    branding = branding or {}
    if not isinstance(branding, dict) or set(branding) - set(BRANDING_FIELDS):
        raise Invalid("bad_branding", "branding takes sender_name, accent_color and logo_url")
    if not all(isinstance(v, str) and len(v) <= 500 for v in branding.values()):
        raise Invalid("bad_branding", "branding values must be short strings")
    try:
        created = lists.create_list(list_id, name.strip(), description, branding)
    except lists.ListExists as error:
        raise Conflict("list_exists", "a list with this id exists") from error
    return {"list_id": created.list_id, "name": created.name}


def add_subscriber(list_id, email, resubscribe: bool = False, source: str = "api") -> dict:
    """The sunset job reviews a new member on its next run and sets the due date from the
    list's policy (the unsubscribe side knows nothing of that policy)."""
    list_id = _list_id(list_id)
    try:
        address = normalize_email(email if isinstance(email, str) else "")
    except InvalidEmail as error:
        raise Invalid("bad_email", "email is not a valid address") from error
    sid = subscriber_id_for(get_settings().subscriber_id_key, address)
    now = datetime.now(UTC)
    try:
        result = subscribers.subscribe(
            sid, address, list_id, AuditContext(source=source), now, sunset_due=now, resubscribe=bool(resubscribe)
        )
    except subscribers.UnknownList as error:
        raise NotFound("unknown_list", "this list does not exist") from error
    return {"subscriber_id": sid, "result": result}


def import_csv(list_id, text: str, progress: Callable[[int], None] | None = None) -> dict:
    """Rows need an `email` column. An address that unsubscribed before stays unsubscribed.
    `progress(n)` is told after every row (the CLI draws a bar with it)."""
    import csv  # operators' path only; kept off the cold start of every request
    import io

    list_id = _list_id(list_id)
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        fieldnames = reader.fieldnames
        if not fieldnames or "email" not in [f.strip().lower() for f in fieldnames]:
            raise Invalid("bad_csv", "the CSV needs a header row with an 'email' column")
        column = next(f for f in fieldnames if f.strip().lower() == "email")
        outcomes: Counter = Counter()
        rejected_rows: list[int] = []
        for line, row in enumerate(reader, start=2):
            if line - 1 > MAX_IMPORT_ROWS:
                raise TooLarge("too_large", f"import at most {MAX_IMPORT_ROWS} rows at a time")
            try:
                outcomes[add_subscriber(list_id, row.get(column), source="import")["result"]] += 1
            except Invalid:
                outcomes["rejected"] += 1
                rejected_rows.append(line)
            if progress:
                progress(1)
    except csv.Error as error:
        raise Invalid("bad_csv", f"the CSV could not be read: {error}") from error
    return {"counts": dict(outcomes), "rejected_rows": rejected_rows[:100]}


def _subscriber_id(subscriber_id) -> str:
    if not is_id(subscriber_id):
        raise Invalid("bad_subscriber", "subscriber_id is not valid")
    return subscriber_id


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else str(value)


def export_consent(subscriber_id) -> str:
    """The subscriber's consent trail as JSON lines, oldest first."""
    lines = []
    for event in subscribers.consent_events(_subscriber_id(subscriber_id)):
        record = {k: v for k, v in event.attribute_values.items() if k not in ("pk", "sk") and v is not None}
        record.update(subscriber_id=subscriber_id, event_id=event.sk.removeprefix("EVENT#"))
        lines.append(json.dumps(record, default=_iso, sort_keys=True))
    return "\n".join(lines) + ("\n" if lines else "")


def find_subscriber(email) -> dict:
    """The opaque id for an address (taken in a body, never in a URL)."""
    try:
        return {
            "subscriber_id": subscriber_id_for(
                get_settings().subscriber_id_key, email if isinstance(email, str) else ""
            )
        }
    except InvalidEmail as error:
        raise Invalid("bad_email", "email is not a valid address") from error


def _plain(item) -> dict:
    return {
        k: (sorted(v) if isinstance(v, set) else v)
        for k, v in item.attribute_values.items()
        if k not in ("pk", "sk") and v is not None
    }


def export_subscriber(subscriber_id) -> dict:
    """Everything held about a subscriber (a data subject access request)."""
    profile, subscriptions, events = subscribers.everything_about(_subscriber_id(subscriber_id))
    if profile is None and not subscriptions and not events:
        raise NotFound("unknown_subscriber", "nothing is held about this subscriber")
    return {
        "subscriber_id": subscriber_id,
        "profile": _plain(profile) if profile else None,
        "subscriptions": [_plain(s) for s in subscriptions],
        "consent_events": [{**_plain(e), "event_id": e.sk.removeprefix("EVENT#")} for e in events],
    }


def erase_subscriber(subscriber_id) -> dict:
    subscriber_id = _subscriber_id(subscriber_id)
    if subscribers.get_profile(subscriber_id) is None and not subscribers.subscriptions_of(subscriber_id):
        raise NotFound("unknown_subscriber", "nothing is held about this subscriber")
    return subscribers.erase(subscriber_id, datetime.now(UTC))


def unsubscribe_reasons(list_id, first_month, last_month) -> dict:
    """Exit-survey reasons per month: count and share of the answers."""
    import re

    list_id = _list_id(list_id)
    month = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
    first_month, last_month = first_month or "0000-01", last_month or "9999-12"
    if not month.match(first_month) or not month.match(last_month):
        raise Invalid("bad_month", "months look like 2026-11")
    months = []
    for item in subscribers.reason_counts(list_id, first_month, last_month):
        counts = {reason: int(getattr(item, reason) or 0) for reason in consent.SURVEY_REASONS}
        answers = sum(counts.values())
        months.append(
            {
                "month": item.sk,
                "answers": answers,
                "reasons": {
                    r: {"count": n, "share": round(n / answers, 4) if answers else 0.0} for r, n in counts.items()
                },
            }
        )
    return {"list_id": list_id, "months": months}
