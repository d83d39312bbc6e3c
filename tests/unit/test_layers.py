"""Dependencies point down only: app -> jobs (unsubscribe, offers, sunset, cancel) -> storage -> domain
-> core. The links between jobs: sunset uses unsubscribe's tokens and headers for its
re-permission email; cancel's save-rate report uses the offer report's statistics. Nothing that
ships imports the test client, the local server, the CLI or the tests. And no module imports
itself through others: the direction rule cannot see a cycle inside one package
(`core.http` -> `core.observability` -> `core.http`), so it is checked on its own."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JOBS = ("unsubscribe", "offers", "sunset", "cancel")
ALLOWED_BETWEEN_JOBS = {
    ("sunset", "chalicelib.unsubscribe.tokens"),
    ("sunset", "chalicelib.unsubscribe.headers"),
    ("cancel", "chalicelib.offers.report"),  # the save-rate report uses the offer report's intervals
    ("unsubscribe", "chalicelib.offers.limits"),  # the broken-link form's rate limit is the same window
}
NOT_FOR_RUN_TIME = ("chalice.test", "chalice.local")
NOT_SHIPPED = ("tools", "tests", "moto", "pytest")


def layer(module: str) -> tuple[int, str]:
    """(rank, package) of a first-party module: core 0, domain 1, storage 2, a job 3, the app 4."""
    parts = module.split(".")
    if parts[0] == "app":
        return 4, "app"
    if parts[0] != "chalicelib" or len(parts) < 2:
        raise ValueError(module)
    if parts[1] == "core":
        return 0, "core"
    if parts[1] == "domain":
        return 1, "domain"
    if parts[1] == "storage":
        return 2, "storage"
    if parts[1] in JOBS:
        return 3, parts[1]
    raise ValueError(f"{module} is in no layer")


def imports_of(source: str) -> list[str]:
    """Every module imported anywhere in the source, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names if node.module == "chalicelib"]
    return found


def violations(module: str, source: str) -> list[str]:
    rank, package = layer(module)
    wrong = []
    for target in imports_of(source):
        if target.startswith(NOT_FOR_RUN_TIME) or target.split(".")[0] in NOT_SHIPPED:
            wrong.append(f"{module} imports {target}, which does not ship or is not for run time")
            continue
        if not target.startswith("chalicelib.") and target != "app":
            continue
        target_rank, target_package = layer(target)
        if target_package == package:
            continue
        if target_rank < rank and not (rank == 3 and target_rank == 3):
            continue
        if (package, ".".join(target.split(".")[:3])) in ALLOWED_BETWEEN_JOBS:
            continue
        wrong.append(f"{module} ({package}) imports {target} ({target_package})")
    return wrong


def imported_modules(module: str, source: str, known: set[str]) -> set[str]:
    """The first-party modules `module` imports (at the top or inside a function), resolved to
    modules of `known`: `from chalicelib.core import http` is chalicelib.core.http, a relative
    import is resolved against the module's package."""
    is_package = any(other.startswith(f"{module}.") for other in known)
    package = module if is_package else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known and name != module}
    return found


def import_cycles(modules: dict[str, str]) -> list[list[str]]:
    """Every set of modules that import one another in a circle (Tarjan's strongly connected
    components of more than one module), each sorted."""
    known = set(modules)
    graph = {module: sorted(imported_modules(module, source, known)) for module, source in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def shipped_modules():
    yield "app", (ROOT / "app.py").read_text()
    for path in sorted((ROOT / "chalicelib").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if module == "chalicelib":
            continue
        yield module, path.read_text()


def test_every_import_points_down():
    wrong = [v for module, source in shipped_modules() for v in violations(module, source)]
    assert wrong == []


def test_no_module_imports_itself_through_others():
    assert import_cycles(dict(shipped_modules())) == []


def test_the_cycle_check_catches_a_cycle_inside_a_package():
    """The cycle this check was written for: observability's middleware bound the request
    through core.http, which logs through observability."""
    modules = {
        "chalicelib.core.settings": "import os",
        "chalicelib.core.observability": (
            "from chalicelib.core.settings import observability_settings\n"
            "def _describe(event):\n    from chalicelib.core.http import bind_request\n"
        ),
        "chalicelib.core.http": "from chalicelib.core import errors\nfrom chalicelib.core.observability import count",
        "chalicelib.core.errors": "",
    }
    assert import_cycles(modules) == [["chalicelib.core.http", "chalicelib.core.observability"]]
    modules["chalicelib.core.observability"] = "from chalicelib.core.settings import observability_settings"
    assert import_cycles(modules) == []


def test_the_cycle_check_follows_package_and_relative_imports():
    modules = {
        "chalicelib.storage.lists": "from chalicelib.storage import offers",
        "chalicelib.storage.offers": "from . import transactions",
        "chalicelib.storage.transactions": "import chalicelib.storage.lists",
    }
    assert import_cycles(modules) == [
        ["chalicelib.storage.lists", "chalicelib.storage.offers", "chalicelib.storage.transactions"]
    ]


def test_the_tree_has_the_three_jobs_and_the_kernel():
    packages = {path.name for path in (ROOT / "chalicelib").iterdir() if (path / "__init__.py").exists()}
    assert packages == {"core", "domain", "storage", *JOBS}
    for job in JOBS:
        assert (ROOT / "chalicelib" / job / "routes.py").exists()


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("chalicelib.core.http", "from chalicelib.storage import lists"),
        ("chalicelib.core.pages", "def f():\n    from chalicelib.unsubscribe import flow"),
        ("chalicelib.storage.lists", "from chalicelib.sunset.policy import parse_policy"),
        ("chalicelib.unsubscribe.flow", "from chalicelib.sunset import engagement"),
        ("chalicelib.offers.service", "import chalicelib.unsubscribe.tokens"),
        ("chalicelib.sunset.job", "from chalicelib.offers import service"),
        ("chalicelib.sunset.job", "from chalicelib.unsubscribe import flow"),
        ("chalicelib.storage.offers", "import app"),
        ("chalicelib.domain.coupons", "from chalicelib.storage import offers"),
        ("chalicelib.unsubscribe.routes", "from chalice.test import Client"),
        ("chalicelib.offers.routes", "from tools.cli import emit"),
        ("chalicelib.domain.consent", "from chalicelib.storage import subscribers"),
        ("chalicelib.core.ids", "from chalicelib.domain import consent"),
    ],
)
def test_the_check_catches_an_import_against_the_direction(module, source):
    assert violations(module, source)


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("chalicelib.sunset.email", "from chalicelib.unsubscribe.headers import build_headers"),
        ("chalicelib.sunset.routes", "from chalicelib.unsubscribe.tokens import verify_link"),
        ("chalicelib.offers.email", "from chalicelib.storage import subscribers"),
        ("app", "from chalicelib.offers.routes import bp"),
        ("chalicelib.core.http", "from chalice import Response"),
        ("chalicelib.storage.subscribers.changes", "from chalicelib.domain import consent"),
    ],
)
def test_the_check_allows_what_the_layers_allow(module, source):
    assert violations(module, source) == []
