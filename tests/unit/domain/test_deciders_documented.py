"""docs/storage.md's "Who decides each change" table holds: each row names a function that exists in
the module it gives, and unit test files that exist and call it; every planner of consent, of the
sunset clock and of coupons has a row."""

import ast
import importlib
import re
from pathlib import Path

from tests.documented import ROOT, section

DOMAIN = ROOT / "chalicelib" / "domain"
PLANNER_MODULES = [*sorted((DOMAIN / "consent").glob("*.py")), DOMAIN / "sunset.py", DOMAIN / "coupons.py"]


def rows() -> list[tuple[str, str, list[str]]]:
    """(module path, function, test files) of each row."""
    table = section(ROOT / "docs" / "storage.md", "Who decides each change")
    found = []
    for line in table.splitlines():
        cells = line.split("|")
        if len(cells) < 4 or not cells[2].strip().startswith("`"):
            continue
        path, function = re.findall(r"`([^`]+)`", cells[2])
        found.append((path, function, re.findall(r"`([^`]+)`", cells[3])))
    return found


def planners(path: Path) -> set[str]:
    return {
        node.name
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("plan_")
    }


def test_each_row_names_a_function_of_its_module_and_tests_that_call_it():
    assert len(rows()) >= 20
    for path, function, tests in rows():
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, function, None)), f"{path} has no {function}"
        assert tests, f"no unit tests named for {function}"
        for test in tests:
            assert test.startswith("tests/unit/"), test
            assert re.search(rf"\b{function}\(", (ROOT / test).read_text()), f"{test} never calls {function}"


def test_every_planner_has_a_row():
    documented = {(path, function) for path, function, _ in rows()}
    missing = [
        (str(path.relative_to(ROOT)), name)
        for path in PLANNER_MODULES
        for name in sorted(planners(path))
        if (str(path.relative_to(ROOT)), name) not in documented
    ]
    assert missing == [], f"add these planners to docs/storage.md's table: {missing}"
