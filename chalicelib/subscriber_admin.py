"""Operators' side of subscribers: add one, import a CSV, export the consent trail."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from chalicelib import tokens
from chalicelib.errors import BadRequest
from chalicelib.identity import InvalidEmail, normalize_email, subscriber_id_for
from chalicelib.settings import get_settings
from chalicelib.storage import subscribers
from chalicelib.storage.subscribers import AuditContext

MAX_IMPORT_ROWS = 10_000


def add_subscriber(list_id: str, email, resubscribe: bool = False, source: str = "api") -> dict:
    if not isinstance(list_id, str) or not tokens.ID_PATTERN.match(list_id):
        raise BadRequest("bad_list", "list_id is not valid")
    try:
        address = normalize_email(email if isinstance(email, str) else "")
    except InvalidEmail as error:
        raise BadRequest("bad_email", "email is not a valid address") from error
    sid = subscriber_id_for(get_settings().subscriber_id_key, address)
    try:
        result = subscribers.subscribe(
            sid, address, list_id, AuditContext(source=source), datetime.now(UTC), resubscribe=bool(resubscribe)
        )
    except subscribers.UnknownList as error:
        raise BadRequest("unknown_list", "this list does not exist", 404) from error
    return {"subscriber_id": sid, "result": result}


def import_csv(list_id: str, text: str) -> dict:
    """Rows need an `email` column. An address that unsubscribed before stays unsubscribed."""
    import csv  # operators' path only; kept off the cold start of every request
    import io

    if not isinstance(list_id, str) or not tokens.ID_PATTERN.match(list_id):
        raise BadRequest("bad_list", "list_id is not valid")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        fieldnames = reader.fieldnames
        if not fieldnames or "email" not in [f.strip().lower() for f in fieldnames]:
            raise BadRequest("bad_csv", "the CSV needs a header row with an 'email' column")
        column = next(f for f in fieldnames if f.strip().lower() == "email")
        outcomes: Counter = Counter()
        rejected_rows: list[int] = []
        for line, row in enumerate(reader, start=2):
            if line - 1 > MAX_IMPORT_ROWS:
                raise BadRequest("too_large", f"import at most {MAX_IMPORT_ROWS} rows at a time", 413)
            try:
                outcomes[add_subscriber(list_id, row.get(column), source="import")["result"]] += 1
            except BadRequest as error:
                if error.code == "unknown_list":
                    raise
                outcomes["rejected"] += 1
                rejected_rows.append(line)
    except csv.Error as error:
        raise BadRequest("bad_csv", f"the CSV could not be read: {error}") from error
    return {"counts": dict(outcomes), "rejected_rows": rejected_rows[:100]}


def export_consent(subscriber_id: str) -> str:
    """The subscriber's consent trail as JSON lines, oldest first."""
    if not tokens.ID_PATTERN.match(subscriber_id or ""):
        raise BadRequest("bad_subscriber", "subscriber_id is not valid")
    lines = []
    for event in subscribers.consent_events(subscriber_id):
        record = {k: v for k, v in event.attribute_values.items() if k not in ("pk", "sk") and v is not None}
        record.update(subscriber_id=subscriber_id, event_id=event.sk.removeprefix("EVENT#"))
        lines.append(
            json.dumps(record, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v), sort_keys=True)
        )
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
        raise BadRequest("bad_email", "email is not a valid address") from error


def _checked(subscriber_id: str) -> str:
    if not isinstance(subscriber_id, str) or not tokens.ID_PATTERN.match(subscriber_id):
        raise BadRequest("bad_subscriber", "subscriber_id is not valid")
    return subscriber_id


def _plain(item) -> dict:
    return {
        k: (sorted(v) if isinstance(v, set) else v)
        for k, v in item.attribute_values.items()
        if k not in ("pk", "sk") and v is not None
    }


def export_subscriber(subscriber_id: str) -> dict:
    """Everything held about a subscriber (a data subject access request)."""
    profile, subscriptions, events = subscribers.everything_about(_checked(subscriber_id))
    if profile is None and not subscriptions and not events:
        raise BadRequest("unknown_subscriber", "nothing is held about this subscriber", 404)
    return {
        "subscriber_id": subscriber_id,
        "profile": _plain(profile) if profile else None,
        "subscriptions": [_plain(s) for s in subscriptions],
        "consent_events": [{**_plain(e), "event_id": e.sk.removeprefix("EVENT#")} for e in events],
    }


def erase_subscriber(subscriber_id: str) -> dict:
    if subscribers.get_profile(_checked(subscriber_id)) is None and not subscribers.subscriptions_of(subscriber_id):
        raise BadRequest("unknown_subscriber", "nothing is held about this subscriber", 404)
    return subscribers.erase(subscriber_id, datetime.now(UTC))


def unsubscribe_reasons(list_id: str, first_month: str | None, last_month: str | None) -> dict:
    """Exit-survey reasons per month: count and share of the answers."""
    import re

    from chalicelib import consent

    if not isinstance(list_id, str) or not tokens.ID_PATTERN.match(list_id):
        raise BadRequest("bad_list", "list_id is not valid")
    month = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
    first_month, last_month = first_month or "0000-01", last_month or "9999-12"
    if not month.match(first_month) or not month.match(last_month):
        raise BadRequest("bad_month", "months look like 2026-11")
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
