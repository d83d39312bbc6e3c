"""`preflight`: is a message one-click ready? A checklist on a terminal, JSON when piped."""

from __future__ import annotations

from pathlib import Path

import click

from tools.cli import output

MARKS = {"pass": ("pass", "green"), "fail": ("FAIL", "red"), "warn": ("warn", "yellow")}


def checklist(report) -> str:
    """The report as lines a person reads: a verdict, then one line per check."""
    fails = sum(f.status == "fail" for f in report.findings)
    warns = sum(f.status == "warn" for f in report.findings)
    verdict = "READY for one-click" if report.ready else f"NOT READY: {fails} to fix"
    lines = [f"{verdict}" + (f" ({warns} warning{'s' if warns > 1 else ''})" if warns else "")]
    for finding in report.findings:
        mark, colour = MARKS[str(finding.status)]
        lines.append(f"  [{click.style(mark, fg=colour)}] {finding.check}: {finding.message}")
    return "\n".join(lines) + "\n"


def _read(path: str, limit: int) -> bytes:
    with open(path, "rb") as file:
        return file.read(limit + 1)  # one byte over says "too large" without reading a huge file


@click.command("preflight")
@click.argument("message", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--dkim-key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False),
    help="file with the signer's public key: PEM, or its DNS TXT value",
)
@click.option("--dkim-txt", help="the signer's public key as its DNS TXT value (v=DKIM1; k=rsa; p=...)")
@click.option("--json", "as_json", is_flag=True, help="JSON even on a terminal")
def preflight(message, key_file, dkim_txt, as_json) -> None:
    """Is MESSAGE (an .eml file) one-click ready by Gmail's and Yahoo's rules? Without a key the
    signer's is looked up in DNS. Exit code 1 when it is not ready."""
    from chalicelib.core.errors import Invalid
    from chalicelib.unsubscribe.preflight import MAX_MESSAGE_BYTES, check_message

    if key_file and dkim_txt:
        raise click.UsageError("give --dkim-key or --dkim-txt, not both")
    try:
        key = Path(key_file).read_text(encoding="ascii") if key_file else dkim_txt
    except UnicodeDecodeError as error:
        raise Invalid("bad_dkim_key", f"{key_file} is not a PEM key or a TXT value") from error
    report = check_message(_read(message, MAX_MESSAGE_BYTES), key)
    if as_json or not output.OUT.isatty():
        output.emit(report.as_dict())
    else:
        output.write(checklist(report))
    if not report.ready:
        raise SystemExit(1)  # as the group ends on a service error: the shell sees the code


COMMANDS = (preflight,)
