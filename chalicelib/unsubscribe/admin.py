"""Operators' side of lists and subscribers: create a list, add one, import a CSV, export the
consent trail, find / export / erase a person, and the exit-survey report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib.core.errors import Conflict, Invalid, NotFound
from chalicelib.core.forms import page_size
from chalicelib.core.ids import InvalidEmail, is_id, normalize_email, subscriber_id_for
from chalicelib.core.settings import get_settings
from chalicelib.domain import consent
from chalicelib.domain.consent import Source
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext

BRANDING_FIELDS = ("sender_name", "accent_color", "logo_url")


def _list_id(list_id) -> str:
    if not is_id(list_id):
        raise Invalid("bad_list", "list_id must be 1-64 letters, digits, '-' or '_'")
    return list_id


def create_list(fields: dict) -> dict:
    """A new list, as `contracts.NewList` takes it, unknown fields refused (the route passes the
    body whole; the CLI comes here too)."""
    from chalicelib.core.contracts import validate
    from chalicelib.unsubscribe.contracts import NewList

    new = validate(NewList, fields, lambda field: "bad_list" if field == "list_id" else f"bad_{field}")
    branding = new.branding.model_dump(exclude_unset=True) if new.branding else {}
    try:
        created = lists.create_list(new.list_id, new.name, new.description, branding)
    except lists.ListExists as error:
        raise Conflict("list_exists", "a list with this id exists") from error
    return {"list_id": created.list_id, "name": created.name}


def _list_view(item) -> dict:
    branding = {k: v for k, v in (item.branding.attribute_values if item.branding else {}).items() if v is not None}
    return {
        "list_id": item.list_id,
        "name": item.name,
        "description": item.description,
        "branding": branding,
        "created_at": _iso(item.created_at),
        "frequencies": item.frequencies or [],
        "sunset_policy": item.sunset,
    }


def get_list(list_id) -> dict:
    return _list_view(lists.existing_list(_list_id(list_id)))


def all_lists(after=None, limit=None) -> dict:
    """A page of lists; `next` is the `after` of the next page (None: this was the last)."""
    if after not in (None, ""):
        _list_id(after)
    items, more = lists.lists_page(after or None, page_size(limit))
    return {"lists": [_list_view(item) for item in items], "next": more}


def update_list(list_id, body) -> dict:
    """Change a list's name, description or branding (`contracts.ListPatch`: only the fields
    sent; branding fields merge into the stored ones, a null removes one); the result is checked
    as `contracts.NewList` checks a new list."""
    from chalicelib.core.contracts import patched
    from chalicelib.unsubscribe.contracts import ListPatch, NewList

    stored = lists.existing_list(_list_id(list_id))
    current = _list_view(stored)
    if isinstance(body, dict) and isinstance(body.get("branding"), dict):
        merged = {**current["branding"], **body["branding"]}
        body = {**body, "branding": {k: v for k, v in merged.items() if v is not None}}
    now = {k: current[k] for k in ("list_id", "name", "description", "branding")}
    known = {*NewList.model_fields, "body"}  # an unknown field's name is the client's text: never an error code

    def code(field: str) -> str:
        return f"bad_{field}" if field in known else "bad_field"

    new = NewList.model_validate(patched(NewList, ListPatch, now, body, code))
    branding = new.branding.model_dump(exclude_none=True) if new.branding else {}
    if not lists.update_list(new.list_id, new.name, new.description, branding, stored.edits):
        if lists.get_list(new.list_id) is None:
            raise lists.UnknownList(new.list_id)
        raise Conflict("concurrent_edit", "the list changed while you edited it; read it again and retry")
    return get_list(new.list_id)


def add_subscriber(list_id, email, resubscribe: bool = False, source: Source = Source.API) -> dict:
    """One transaction, plus the list's policy read at most once a minute per container (an
    import reads it once): a new member is first due for the sunset job when the list's window
    after joining can first end, so the job never reads them before."""
    from chalicelib.core.sunset_policy import first_due, parse_policy

    list_id = _list_id(list_id)
    try:
        address = normalize_email(email if isinstance(email, str) else "")
    except InvalidEmail as error:
        raise Invalid("bad_email", "email is not a valid address") from error
    sid = subscriber_id_for(get_settings().subscriber_id_key, address)
    now = datetime.now(UTC)
    result = subscribers.subscribe(
        sid,
        address,
        list_id,
        AuditContext(source=source),
        now,
        sunset_due=first_due(parse_policy(lists.sunset_policy_of(list_id)), now),
        resubscribe=bool(resubscribe),
    )
    return {"subscriber_id": sid, "result": result}


def import_csv(list_id, text: str, column=None, import_id=None) -> dict:
    """Import a CSV in one go (see `unsubscribe.imports`): the report of the whole import."""
    from chalicelib.unsubscribe import imports

    list_id = _list_id(list_id)
    rows = imports.read_csv(text, column)
    import_id = imports.import_id_of(import_id, rows)
    imports.run(list_id, import_id, rows, "api")
    return imports.report(list_id, import_id)


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


def set_frequencies(list_id, body) -> dict:
    """The "less often" choices a list's page offers (an empty list offers none), as
    `contracts.Frequencies` takes them."""
    from chalicelib.core.contracts import validate
    from chalicelib.unsubscribe.contracts import Frequencies

    list_id = _list_id(list_id)
    frequencies = validate(Frequencies, body, "bad_frequencies").as_stored()
    if not lists.set_frequencies(list_id, frequencies):
        raise lists.UnknownList(list_id)
    return {"list_id": list_id, "frequencies": frequencies}


# Why people leave: the counters written with each consent change, by list and month.
MAX_REPORT_MONTHS = 60
RETURNS = ("resume", "resubscribe")


def _shift(month: str, delta: int) -> str:
    year, number = map(int, month.split("-"))
    total = year * 12 + number - 1 + delta
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


def _month_range(first_month, last_month, now: datetime) -> list[str]:
    """The months asked for, oldest first (default: the 12 months up to this one)."""
    import re

    month = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
    last_month = last_month or f"{now:%Y-%m}"
    if not isinstance(last_month, str) or not month.match(last_month):
        raise Invalid("bad_month", "months look like 2026-11")
    first_month = first_month or max(_shift(last_month, -11), "0000-01")
    if not isinstance(first_month, str) or not month.match(first_month):
        raise Invalid("bad_month", "months look like 2026-11")
    if first_month > last_month:
        raise Invalid("bad_month", "from must not be after to")
    months = [first_month]
    while months[-1] < last_month:
        months.append(_shift(months[-1], 1))
        if len(months) > MAX_REPORT_MONTHS:
            raise Invalid("bad_month", f"ask for at most {MAX_REPORT_MONTHS} months at a time")
    return months


def _empty_month(month: str) -> dict:
    return {
        "month": month,
        "unsubscribes": {"total": 0, "by_source": {}, "stop_everything": 0},
        "pauses": {"started": 0, "resumed": 0},
        "resubscribes": 0,
        "frequencies": {"chosen": {}, "undone": {}},
        "reasons": {"answers": 0, "by_reason": {}},
    }


def _add(month: dict, name: str, n: int, everything: bool) -> None:
    kind, _, detail = name.partition("#")
    if kind == "unsubscribe":
        month["unsubscribes"]["total"] += n
        by_source = month["unsubscribes"]["by_source"]
        by_source[detail] = by_source.get(detail, 0) + n
        if everything:
            month["unsubscribes"]["stop_everything"] += n
    elif kind == "pause":
        month["pauses"]["started"] += n
    elif kind == "resume":
        month["pauses"]["resumed"] += n
    elif kind == "resubscribe":
        month["resubscribes"] += n
    elif kind in ("frequency", "frequency_undone"):
        bucket = month["frequencies"]["chosen" if kind == "frequency" else "undone"]
        bucket[detail] = bucket.get(detail, 0) + n


def leaving_report(list_id, first_month=None, last_month=None, now: datetime | None = None) -> dict:
    """Per month of the range (default: the last 12): unsubscribes by source (those from "stop
    everything" included, and counted apart), pauses and their returns, resubscribes (undone
    unsubscribes), "less often" choices and their undos, and the exit-survey reasons."""
    list_id = _list_id(list_id)
    months = _month_range(first_month, last_month, now or datetime.now(UTC))
    first, last = months[0], months[-1]
    report = {month: _empty_month(month) for month in months}
    for month, counts in subscribers.leaving_counts(list_id, first, last).items():
        for name, n in counts.items():
            if month in report:
                _add(report[month], name, n, everything=False)
    suffix = f"@{list_id}"
    for month, counts in subscribers.leaving_counts("*", first, last).items():
        for name, n in counts.items():
            if month in report and name.endswith(suffix):
                _add(report[month], name.removesuffix(suffix), n, everything=True)
    for item in subscribers.reason_counts(list_id, first, last):
        if item.sk in report:
            counts = {reason: int(getattr(item, reason) or 0) for reason in consent.SURVEY_REASONS}
            report[item.sk]["reasons"] = {"answers": sum(counts.values()), "by_reason": counts}
    return {"list_id": list_id, "from": first, "to": last, "months": list(report.values())}


# The report's charts: server-rendered SVG geometry, no JavaScript.
CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM = 640, 220, 36, 24


def _bars(months: list[str], series: list[tuple[str, list[int]]], stacked: bool) -> dict:
    """Bars per month for each (name, values) series, stacked or side by side, scaled to the
    tallest month; plus the axis's top value."""
    totals = [sum(values[i] for _, values in series) for i in range(len(months))] if stacked else []
    top = max([*totals, *(v for _, values in series for v in values), 1])
    plot_height = CHART_HEIGHT - CHART_BOTTOM - 8
    slot = (CHART_WIDTH - CHART_LEFT) / max(len(months), 1)
    width = slot * 0.7 if stacked else slot * 0.7 / max(len(series), 1)
    bars = []
    for i, month in enumerate(months):
        base = CHART_HEIGHT - CHART_BOTTOM
        for number, (name, values) in enumerate(series):
            height = plot_height * values[i] / top
            x = CHART_LEFT + slot * i + slot * 0.15 + (0 if stacked else number * width)
            if values[i]:
                bars.append(
                    {
                        "x": round(x, 1),
                        "y": round(base - height, 1),
                        "width": round(width, 1),
                        "height": round(height, 1),
                        "series": number,
                        "title": f"{month} {name}: {values[i]}",
                    }
                )
            if stacked:
                base -= height
    labels = [
        {"x": round(CHART_LEFT + slot * i + slot / 2, 1), "text": month[2:]}
        for i, month in enumerate(months)
        if len(months) <= 14 or i % 3 == 0
    ]
    return {"bars": bars, "labels": labels, "top": top, "names": [name for name, _ in series]}


def leaving_report_page(list_id, first_month=None, last_month=None) -> str:
    """The same report as a small page for operators: SVG charts and their numbers."""
    from chalicelib.core.pages import render_plain

    data = leaving_report(list_id, first_month, last_month)
    rows = data["months"]
    months = [row["month"] for row in rows]
    sources = sorted({s for row in rows for s in row["unsubscribes"]["by_source"]})
    frequencies = sorted({f for row in rows for part in row["frequencies"].values() for f in part})
    reasons = {r: sum(row["reasons"]["by_reason"].get(r, 0) for row in rows) for r in consent.SURVEY_REASONS}
    charts = {
        "unsubscribes": _bars(
            months, [(s, [row["unsubscribes"]["by_source"].get(s, 0) for row in rows]) for s in sources], stacked=True
        ),
        "pauses": _bars(
            months,
            [
                ("paused", [row["pauses"]["started"] for row in rows]),
                ("pause ended by undo", [row["pauses"]["resumed"] for row in rows]),
                ("resubscribed by undo", [row["resubscribes"] for row in rows]),
            ],
            stacked=False,
        ),
        "frequencies": _bars(
            months, [(f, [row["frequencies"]["chosen"].get(f, 0) for row in rows]) for f in frequencies], stacked=True
        ),
    }
    return render_plain(
        "leaving_report.html",
        **data,
        sources=sources,
        frequencies=frequencies,
        reasons=reasons,
        reason_top=max([*reasons.values(), 1]),
        charts=charts,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        left=CHART_LEFT,
        bottom=CHART_BOTTOM,
    )
