"""Report pages for a browser: a short-lived signed link to one page (no IAM, no X-Api-Key needed)."""

from __future__ import annotations

import click

from tools.cli.output import emit


@click.command("report-link")
@click.argument("report", type=click.Choice(["leaving", "sunset", "campaign", "cancel"]))
@click.argument("names", nargs=-1, metavar="[SITE_KEY CAMPAIGN_ID | BUSINESS]")
@click.option("--list", "list_id", help="leaving: the list (required)")
@click.option("--from", "first", help="leaving: first month, e.g. 2026-01")
@click.option("--to", "last", help="leaving: last month")
@click.option("--minutes", type=click.IntRange(1, 60), default=10, show_default=True, help="how long the link opens")
@click.option("--open", "open_it", is_flag=True, help="open the link in this machine's browser")
def report_link(report, names, list_id, first, last, minutes, open_it) -> None:
    """A signed link that opens one report page in a browser for a few minutes: `leaving --list
    LIST`, `sunset`, `campaign SITE_KEY CAMPAIGN_ID` or `cancel BUSINESS`. It opens that page only, as asked
    (another path, other parameters or an altered link are refused), and nothing after it expires."""
    from datetime import UTC, datetime, timedelta

    from chalicelib.core.http import sign_page_link

    wanted = {"campaign": "SITE_KEY CAMPAIGN_ID", "cancel": "BUSINESS"}.get(report, "")
    if len(names) != len(wanted.split()):
        raise click.UsageError(f"{report} takes {wanted or 'no names'}")
    if report == "leaving" and not list_id:
        raise click.UsageError("leaving needs --list LIST_ID")
    _check_names(names, list_id, first, last)
    if report == "campaign":
        path, query = "/reports/sites/{}/campaigns/{}".format(*names), {}
    elif report == "cancel":
        path, query = f"/reports/cancel-flows/{names[0]}", {}
    elif report == "leaving":
        path, query = "/reports/leaving", {"list_id": list_id, "from": first, "to": last}
    else:
        path, query = "/reports/sunset", {}
    url = sign_page_link(path, query, minutes)
    emit({"url": url, "expires_at": (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat(timespec="seconds")})
    if open_it:
        import webbrowser

        webbrowser.open(url)


def _check_names(names, list_id, first, last) -> None:
    """A link is signed only for a page that can exist: ids as the service takes them, months as
    YYYY-MM (a link for `../x` or month 13 would open only an error page)."""
    import re

    from chalicelib.core.ids import ID_PATTERN

    for name in (*names, *([list_id] if list_id else [])):
        if not ID_PATTERN.match(name):
            raise click.UsageError(f"{name!r} is no id: 1-64 letters, digits, '-' or '_'")
    for month in (m for m in (first, last) if m is not None):
        if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month, flags=re.ASCII) or month < "2000-01":
            raise click.UsageError(f"{month!r} is no month: write YYYY-MM, e.g. 2026-01")


COMMANDS = (report_link,)
