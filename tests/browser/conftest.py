import json
import os
import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The features Playwright itself disables (its `chromiumSwitches`, Playwright as pinned): Chromium
# reads only the last --disable-features, so ours has to repeat them (`browser` checks it does).
PLAYWRIGHT_DISABLED_FEATURES = [
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
]
# Headless Chromium still builds its (never shown) toolbar: every window, so every page a test
# opens, started a second renderer for the omnibox popup's WebUI and loaded it, about 0.3 s of CPU
# per new page. Nothing of a page's rendering depends on them; the spare renderer, made ahead for
# the default profile, went unused by Playwright's contexts.
UNUSED_BROWSER_FEATURES = [
    "PreloadTopChromeWebUI",
    "WebUIOmniboxPopup",
    "WebUIOmniboxFullPopup",
    "WebUIOmniboxAimPopup",
    "SpareRendererForSitePerProcess",
]


def launch_args(disabled: list[str]) -> list[str]:
    return [*CHROMIUM_ARGS, "--disable-features=" + ",".join(disabled)]


def launched_disabled_features() -> list[list[str]]:
    """The --disable-features lists on the command line of the Chromium this process launched
    (through Playwright's driver), in their order."""
    from tests.helpers import descendants

    return next(
        (
            [arg.split("=", 1)[1].split(",") for arg in command.split() if arg.startswith("--disable-features=")]
            for command in descendants(os.getpid()).values()
            if "--remote-debugging-pipe" in command.split()
        ),
        [],
    )


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (no browser download: `executable_path`)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(executable):
        pytest.fail("chromium is not installed: run ./scripts/test, which installs Debian's chromium")
    disabled = PLAYWRIGHT_DISABLED_FEATURES + UNUSED_BROWSER_FEATURES
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=launch_args(disabled))
        # A newer Playwright may disable more: what our list would have dropped is kept, at the
        # cost of a second launch, until PLAYWRIGHT_DISABLED_FEATURES names it.
        dropped = [f for flags in launched_disabled_features() for f in flags if f not in disabled]
        if dropped:
            browser.close()
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=launch_args(disabled + dropped)
            )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


class ShopPages:
    """A second origin for shop pages (python's http.server in a thread): the snippet is
    cross-origin there, as on a real shop, and each page carries the headers a test gives it."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        pages = self.pages = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                found = pages.get(self.path.split("?")[0])
                if found is None:
                    self.send_error(404)
                    return
                body, headers = found
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, html: str, headers: dict | None = None) -> str:
        self.pages[path] = (html.encode(), headers or {})
        return self.origin + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def shop_pages():
    pages = ShopPages()
    yield pages
    pages.close()


@pytest.fixture(scope="session")
def sunset_run(local_stack) -> dict:
    """One dry sunset run (`tools.cli sunset-run --dry-run`, a process of its own) for the report
    pages that need a run to show: made once per worker, not once per test that opens such a page.
    The sunset report lists the 20 most recent runs, so this one stays on it."""
    return json.loads(local_stack.cli("sunset-run", "--dry-run"))


@pytest.fixture(scope="session")
def axe():
    """axe-core on a page, with the session's tally of pages x locales x widths (tests/browser/axe.py)."""
    from tests.browser.axe import TALLY

    return TALLY


def pytest_terminal_summary(terminalreporter):
    """The accessibility counts, when axe ran (the closing note of issue 17 quotes them)."""
    from tests.browser.axe import TALLY

    if TALLY.summary():
        terminalreporter.write_line(TALLY.summary())
