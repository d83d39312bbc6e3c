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
    emit(admin.create_list(list_id, name, description, branding))


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
def import_csv(list_id, file) -> None:
    """Import a CSV with an 'email' column (who unsubscribed before stays unsubscribed)."""
    from chalicelib.core.errors import Invalid
    from chalicelib.unsubscribe import admin

    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise Invalid("bad_csv", f"{file} is not UTF-8 (save it as UTF-8 and try again)") from error
    with progress(max(text.count("\n") - 1, 0), "importing") as step:
        emit(admin.import_csv(list_id, text, progress=step))


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


COMMANDS = (create_list, add, import_csv, headers, check, export, export_all, erase, reasons)
