"""The documentation holds together: README.md's first lines are the two set-up commands (the second
exactly what CI runs), every relative link in README.md and docs/*.md reaches a file and a heading
that exist, the CLI reference names every command, and every `tools.cli` command line in the pages
is one the CLI accepts (its command and options exist)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from tests.documented import FENCE, README, ROOT, fenced_blocks, pages, section

# Pages other helpers are writing (issue 17): a link to one of them is skipped only while the file
# does not exist. All of them have landed; a page being written in parallel again goes here.
BEING_WRITTEN: list[str] = []

LINK = re.compile(r"(?<!!)\[(?:[^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`[^`]*`")


def prose(text: str) -> str:
    """The text outside fenced code blocks and inline code."""
    kept, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced:
            kept.append(line)
    return INLINE_CODE.sub("", "\n".join(kept))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, seen = set(), {}
    for line in prose(path.read_text()).splitlines():
        match = re.match(r"^(#{1,6}) (.+)$", line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links() -> list[tuple[Path, str]]:
    return [(page, target) for page in pages() for target in LINK.findall(prose(page.read_text()))]


def test_the_slug_is_githubs():
    assert slug("Privacy: export and erase") == "privacy-export-and-erase"
    assert slug("Engagement coming in: addresses, machine opens, malformed records") == (
        "engagement-coming-in-addresses-machine-opens-malformed-records"
    )
    assert slug("Try it — [docs/try.md](docs/try.md)") == "try-it--docstrymd"
    assert slug("`doctor` and the CLI") == "doctor-and-the-cli"


@pytest.mark.parametrize(("page", "target"), links(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_every_relative_link_reaches_a_file_and_a_heading(page: Path, target: str):
    if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
        return
    path, _, anchor = target.partition("#")
    goal = (page.parent / path).resolve() if path else page
    relative = goal.relative_to(ROOT).as_posix() if goal.is_relative_to(ROOT) else str(goal)
    if relative in BEING_WRITTEN and not goal.exists():
        pytest.skip(f"{relative} is being written by another helper (BEING_WRITTEN)")
    assert goal.exists(), f"{page.relative_to(ROOT)} links to {target}: no file {relative}"
    if anchor:
        assert anchor in anchors(goal), f"{page.relative_to(ROOT)} links to {target}: no such heading in {relative}"


def test_pages_being_written_are_named_as_such():
    """The skip list names only docs pages, each one linked from somewhere: nothing hides there."""
    linked = {(page.parent / target.partition("#")[0]).resolve() for page, target in links() if ":" not in target}
    for name in BEING_WRITTEN:
        assert name.startswith("docs/") and name.endswith(".md")
        assert (ROOT / name).resolve() in linked, f"{name} is in BEING_WRITTEN but nothing links to it"


def test_the_readme_opens_with_the_two_set_up_commands_and_ci_runs_the_second():
    readme = README.read_text()
    first = fenced_blocks(readme)[0]
    assert readme.index("```") < readme.index("\n## "), "the set-up commands come before any section"
    assert len(readme[: readme.index(first)].splitlines()) <= 4, "the set-up commands are the README's first lines"
    run, test = (line.split("#")[0].strip() for line in first.splitlines())
    assert run == "./scripts/run-local"
    ci = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci == [test] == ["./scripts/test"]
    assert len(readme.splitlines()) <= 150, "the README is a map; the rest lives in docs/"


def cli_group() -> click.Group:
    from tools.cli import cli

    return cli


def test_the_cli_reference_names_every_command():
    table = section(ROOT / "docs" / "reference.md", "CLI commands")
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", table, re.M))
    assert documented == set(cli_group().commands), "docs/reference.md's CLI table and tools.cli differ"


def command_lines() -> list[tuple[str, str]]:
    """(page, line) for every `tools.cli` command line: in code blocks and in inline code."""
    found = []
    for page in pages():
        text = page.read_text()
        for block in fenced_blocks(text):
            joined = re.sub(r"\\\n\s*", " ", block)
            found += [(page.name, line.strip()) for line in joined.splitlines() if "tools.cli " in line]
        found += [
            (page.name, span.strip("`").replace("\n", " ")) for span in INLINE_CODE.findall(prose_with_code(text))
        ]
    return [(name, line) for name, line in found if "tools.cli " in line]


def prose_with_code(text: str) -> str:
    """The text outside fenced code blocks (inline code kept)."""
    kept, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced:
            kept.append(line)
    return "\n".join(kept)


@pytest.mark.parametrize(("page", "line"), command_lines())
def test_every_documented_cli_line_names_a_real_command_and_options(page: str, line: str):
    words = [word.strip("[]") for word in shlex.split(line.split("tools.cli", 1)[1], comments=True)]
    if words[:1] == ["--stage"]:
        assert set(words[1].split("|")) <= {"dev", "prod"}, line
        words = words[2:]
    if not words or words[0] in ("--help", "-h", "...") or words[0].isupper():  # COMMAND: a placeholder
        return
    command = cli_group().commands.get(words[0])
    assert command is not None, f"{page}: no CLI command {words[0]!r} in {line!r}"
    options = {option for param in command.params for option in getattr(param, "opts", [])}
    options |= {"--help", "-h"}
    for word in words[1:]:
        if word.startswith("-"):
            assert word.split("=")[0] in options, f"{page}: {words[0]} has no option {word} ({line!r})"


def test_the_http_api_table_names_every_route():
    """docs/reference.md's HTTP API table has a row for each route the app serves, with its method."""
    from app import app

    table = section(ROOT / "docs" / "reference.md", "HTTP API")
    cells = [re.sub(r"\{[^}]+\}", "{}", row.split("|")[1]) for row in table.splitlines() if row.startswith("| `")]
    missing = []
    for path, methods in sorted(app.routes.items()):
        shape = re.escape(re.sub(r"\{[^}]+\}", "{}", path))
        for method in methods:
            if not any(re.search(rf"{shape}(`|\?|,)", cell) and method in cell for cell in cells):
                missing.append(f"{method} {path}")
    assert missing == [], f"add a row to docs/reference.md's HTTP API table for: {missing}"


def test_the_configuration_table_names_every_variable_settings_reads():
    """Every environment variable `chalicelib/core/settings.py` reads (a string literal that is a
    variable's name) is in docs/reference.md's configuration section."""
    source = (ROOT / "chalicelib" / "core" / "settings.py").read_text()
    names = set(re.findall(r'"([A-Z][A-Z0-9_]{3,})"', source))
    assert len(names) > 20, "settings.py reads its variables by name"
    documented = section(ROOT / "docs" / "reference.md", "Configuration")
    missing = sorted(name for name in names if f"`{name}`" not in documented)
    assert missing == [], f"document these in docs/reference.md's configuration table: {missing}"
