"""The documentation's steps as the tests read them: README.md and docs/*.md, parsed as a reader
follows them (a section by its heading, shell commands with their continuation lines, bash's own
expansion of quotes and `$(...)`), so the tests run what the pages say rather than a copy."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
DEPLOY = DOCS / "deploy.md"
TRY = DOCS / "try.md"

FENCE = re.compile(r"^(```|~~~)")


def pages() -> list[Path]:
    """README.md and every page under docs/."""
    return [README, *sorted(DOCS.glob("*.md"))]


def section(path: Path, heading: str) -> str:
    """The text under `heading` (a `#` heading's exact text), up to the next heading of its level
    or above; headings inside fenced code blocks do not count."""
    lines, found, level, fenced = path.read_text().splitlines(), None, 0, False
    for number, line in enumerate(lines):
        if FENCE.match(line.strip()):
            fenced = not fenced
        if fenced or not line.startswith("#"):
            continue
        marks, _, text = line.partition(" ")
        if found is None and text.strip() == heading:
            found, level = number, len(marks)
        elif found is not None and set(marks) == {"#"} and len(marks) <= level:
            return "\n".join(lines[found:number])
    if found is None:
        raise LookupError(f"{path.name} has no heading {heading!r}")
    return "\n".join(lines[found:])


def deploy_steps() -> str:
    """docs/deploy.md's numbered steps, from prerequisites to `doctor`."""
    return section(DEPLOY, "Step by step")


def step(number: int) -> str:
    """One numbered step of the deploy steps, its code blocks included."""
    text = deploy_steps()
    start = re.search(rf"^{number}\. ", text, re.M)
    end = re.search(rf"^{number + 1}\. ", text, re.M)
    assert start, f"docs/deploy.md has no step {number}"
    return text[start.start() : end.start() if end else len(text)]


def fenced_blocks(text: str, language: str | None = None) -> list[str]:
    """The contents of every fenced code block, in order (indented fences too); with `language`,
    only the blocks whose opening fence names it (```json)."""
    blocks, current, kind = [], None, ""
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            if current is None:
                current, kind = [], line.strip()[3:].strip()
            else:
                if language is None or kind == language:
                    blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def commands(text: str, prefix: str) -> list[str]:
    """Each shell command starting with `prefix`, continuation lines joined."""
    found, current = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if current is not None:
            current += " " + stripped.rstrip("\\").strip()
        elif stripped.startswith(prefix):
            current = stripped.rstrip("\\").strip()
        else:
            continue
        if not stripped.endswith("\\"):
            found.append(current)
            current = None
    return found


def shell_words(command: str) -> list[str]:
    """The words bash makes of a command (quotes, `$(...)`, a trailing comment)."""
    result = subprocess.run(
        ["bash", "-c", f"set -- {command}\nprintf '%s\\0' \"$@\""], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split("\0")[:-1]


def _option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def ssm_parameters(text: str) -> dict[str, tuple[str, str]]:
    """{name: (type, value)} of every `aws ssm put-parameter` in `text`."""
    found = {}
    for command in commands(text, "aws ssm put-parameter"):
        words = shell_words(command)
        found[_option(words, "--name")] = (_option(words, "--type"), _option(words, "--value"))
    return found


def stack_parameters(text: str) -> dict[str, str]:
    """The `--parameter-overrides` of the one `aws cloudformation deploy` in `text`."""
    [command] = commands(text, "aws cloudformation deploy")
    words = shell_words(command)
    overrides = {}
    for word in words[words.index("--parameter-overrides") + 1 :]:
        if word.startswith("--"):
            break
        name, _, value = word.partition("=")
        overrides[name] = value
    return overrides


def stack_name(text: str) -> str:
    """The `--stack-name` of the one `aws cloudformation deploy` in `text`."""
    [command] = commands(text, "aws cloudformation deploy")
    return _option(shell_words(command), "--stack-name")


def cli_arguments(command: str) -> list[str]:
    """The arguments a `python -m tools.cli ...` command line gives the CLI (what follows `tools.cli`)."""
    words = shell_words(command)
    return words[words.index("tools.cli") + 1 :]


def exported(command: str) -> dict[str, str]:
    """{name: value} of an `export NAME=value ...` line."""
    words = shell_words(command)
    assert words[0] == "export", command
    return dict(word.split("=", 1) for word in words[1:])


def local_cli_settings() -> list[str]:
    """The variables docs/try.md tells a newcomer to export before using the CLI on run-local's stack."""
    [line] = commands(section(TRY, "The CLI"), "export ")
    return list(exported(line))
