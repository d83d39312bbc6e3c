"""Where the CLI's results go: JSON on standard output, progress bars on a terminal's standard error."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

OUT = sys.stdout  # results; the group moves the service's log and metric lines to stderr


def keep_results_apart() -> None:
    """Results keep standard output; anything else printed there (log lines) goes to stderr."""
    global OUT
    if sys.stdout is not sys.stderr:
        OUT, sys.stdout = sys.stdout, sys.stderr


def emit(value) -> None:
    print(json.dumps(value, indent=2, default=str), file=OUT)


def write(text: str) -> None:
    OUT.write(text)


@contextmanager
def progress(length: int | None, label: str):
    """A progress bar on a terminal; a silent counter when standard error is not one."""
    if not sys.stderr.isatty():
        yield lambda n=1: None
        return
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update
