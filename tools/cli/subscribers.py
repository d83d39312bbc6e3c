"""Commands for lists, subscribers and their consent: the unsubscribe job's operator side."""

from __future__ import annotations

from pathlib import Path

import click

from tools.cli.output import emit, progress, write


@click.command("create-list")
@click.argument("list_id")
@click.argument("name")
@click.option("--description")
@click.option("--sender", help="sender name shown on the pages")
@click.option("--color", help="accent colour, #rrggbb")
@click.option("--logo", help="https URL of a logo")
def create_list(list_id, name, description, sender, color, logo) -> None:
    """Create a mailing list."""
    from chalicelib.unsubscribe import admin

    branding = {k: v for k, v in (("sender_name", sender), ("accent_color", color), ("logo_url", logo)) if v}
    emit(admin.create_list({"list_id": list_id, "name": name, "description": description, "branding": branding}))


@click.command("add")
@click.argument("list_id")
@click.argument("email")
@click.option("--resubscribe", is_flag=True, help="the person gave consent again after unsubscribing")
def add(list_id, email, resubscribe) -> None:
    """Subscribe an address to a list."""
    from chalicelib.unsubscribe import admin

    emit(admin.add_subscriber(list_id, email, resubscribe=resubscribe))


@click.command("import")
@click.argument("list_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--column", help="the header of the address column (default: email, E-mail Address, ...)")
@click.option("--import-id", help="resume this import (default: an id derived from the file's rows)")
def import_csv(list_id, file, column, import_id) -> None:
    """Import a CSV of addresses, resumably (who unsubscribed before stays unsubscribed).

    Comma, semicolon or tab separated, UTF-8 with or without a byte order mark. Running the same
    file again continues where it stopped and applies nothing twice."""
    from chalicelib.core.errors import Invalid, ServiceError, Unavailable
    from chalicelib.unsubscribe import imports

    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid("bad_csv", f"{file} is not UTF-8 (save it as UTF-8 and try again)") from error
    rows = imports.read_csv(text, column)
    import_id = imports.import_id_of(import_id, rows)
    separator = {",": "comma", ";": "semicolon", "\t": "tab"}[rows.delimiter]
    click.echo(f"import {import_id}: {len(rows.rows)} rows, column {rows.column!r}, {separator}-separated", err=True)
    with progress(len(rows.rows), "importing") as step:
        try:
            imports.run(list_id, import_id, rows, "cli", progress=step)
        except ServiceError as error:
            if not isinstance(error, Unavailable):
                raise  # refused as a whole (import_id_taken, unknown_list): no import of this file stopped
            _stopped(list_id, file, import_id, rows, error)
        except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001  (said exactly below, with how to resume)
            _stopped(list_id, file, import_id, rows, error)
    emit(imports.report(list_id, import_id))


def _stopped(list_id: str, file: str, import_id: str, rows, error: Exception) -> None:
    """An import that stopped: what it applied, to which line, and the command that resumes it;
    exit 3 when storage was out of reach, else 2."""
    from botocore.exceptions import BotoCoreError
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.core.errors import ServiceError, Unavailable
    from chalicelib.unsubscribe import imports

    why = f"{error.code}: {error}" if isinstance(error, ServiceError) else f"{type(error).__name__}: {error}"
    resume = f"python -m tools.cli import {list_id} {file} --import-id {import_id}"
    try:
        report = imports.report(list_id, import_id)
    except Exception:  # noqa: BLE001  (storage still out of reach: the record is safe where it is)
        click.echo(
            f"\nerror: import {import_id} stopped ({why}); its record could not be read now. "
            f"Nothing is applied twice: resume with\n  {resume}",
            err=True,
        )
        raise SystemExit(3) from None
    done, counts = report["rows_done"], report["counts"]
    last_line = rows.rows[done - 1][0] if done else None
    where = f"rows up to line {last_line} are done" if last_line else "no row was applied"
    click.echo(
        f"\nerror: import {import_id} stopped ({why}): {done} of {report['rows']} rows done, {where}; "
        f"applied {counts['applied']}, already there {counts['already_there']}, refused {counts['refused']}. "
        f"Nothing after that was applied. Resume with\n  {resume}",
        err=True,
    )
    emit({**report, "status": "stopped", "error": why, "resume": resume})
    raise SystemExit(3 if isinstance(error, Unavailable | BotoCoreError | PynamoDBException) else 2) from None


@click.command("headers")
@click.argument("list_id")
@click.argument("email")
@click.option("--campaign")
def headers(list_id, email, campaign) -> None:
    """The List-Unsubscribe headers for one message."""
    from chalicelib.unsubscribe.senders import headers_for

    emit(headers_for({"email": email}, list_id, campaign).as_dict())


@click.command("check")
@click.argument("list_id")
@click.argument("channel", type=click.Choice(["email", "sms", "push"]))
@click.argument("emails", nargs=-1, required=True)
def check(list_id, channel, emails) -> None:
    """May these addresses be sent to on this channel?"""
    from chalicelib.unsubscribe.senders import check_recipients

    emit(check_recipients(list_id, channel, [{"email": e} for e in emails]))


@click.command("export")
@click.argument("subscriber_id")
def export(subscriber_id) -> None:
    """A subscriber's consent trail as JSON lines."""
    from chalicelib.unsubscribe import admin

    write(admin.export_consent(subscriber_id))


def _subscriber_id(value: str) -> str:
    from chalicelib.unsubscribe import admin

    return admin.find_subscriber(value)["subscriber_id"] if "@" in value else value


@click.command("export-all")
@click.argument("who")
def export_all(who) -> None:
    """Everything held about a subscriber (address or id)."""
    from chalicelib.unsubscribe import admin

    emit(admin.export_subscriber(_subscriber_id(who)))


@click.command("erase")
@click.argument("who", nargs=-1, required=True)
def erase(who) -> None:
    """Erase subscribers (addresses or ids), keeping only the hashed opt-out."""
    from chalicelib.core.errors import NotFound
    from chalicelib.unsubscribe import admin

    results = []
    with progress(len(who), "erasing") as step:
        for one in who:
            try:
                results.append(admin.erase_subscriber(_subscriber_id(one)))
            except NotFound:
                results.append({"subscriber_id": _subscriber_id(one), "error": "unknown_subscriber"})
            step(1)
    emit(results[0] if len(results) == 1 and "error" not in results[0] else results)


@click.command("reasons")
@click.argument("list_id")
@click.option("--from", "first", help="first month, e.g. 2026-01")
@click.option("--to", "last", help="last month")
def reasons(list_id, first, last) -> None:
    """Exit-survey reasons of a list by month (count and share)."""
    from chalicelib.unsubscribe import admin

    emit(admin.unsubscribe_reasons(list_id, first, last))


@click.command("lists")
@click.option("--after", help="the last list id of the previous page")
@click.option("--limit", type=int, default=50, show_default=True)
def all_lists(after, limit) -> None:
    """Mailing lists, a page at a time (`next` is the --after of the next page)."""
    from chalicelib.unsubscribe import admin

    emit(admin.all_lists(after, limit))


@click.command("show-list")
@click.argument("list_id")
def show_list(list_id) -> None:
    """A mailing list: name, description, branding, frequencies, sunset policy."""
    from chalicelib.unsubscribe import admin

    emit(admin.get_list(list_id))


@click.command("edit-list")
@click.argument("list_id")
@click.option("--name")
@click.option("--description", help='the new description ("" removes it)')
@click.option("--sender", help='sender name shown on the pages ("" removes it)')
@click.option("--color", help='accent colour, #rrggbb, with 4.5:1 contrast for white text ("" removes it)')
@click.option("--logo", help='https URL of a logo ("" removes it)')
def edit_list(list_id, name, description, sender, color, logo) -> None:
    """Change a list's name, description or branding; checked as create-list checks a new one."""
    from chalicelib.unsubscribe import admin

    def given(value):  # "" asks to remove the field: a null in the PATCH
        return None if value == "" else value

    body = {k: given(v) for k, v in (("name", name), ("description", description)) if v is not None}
    branding = {
        k: given(v) for k, v in (("sender_name", sender), ("accent_color", color), ("logo_url", logo)) if v is not None
    }
    if branding:
        body["branding"] = branding
    emit(admin.update_list(list_id, body))


COMMANDS = (
    create_list,
    add,
    import_csv,
    headers,
    check,
    export,
    export_all,
    erase,
    reasons,
    all_lists,
    show_list,
    edit_list,
)
