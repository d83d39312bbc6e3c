"""axe-core (bundled by axe-playwright-python) for the browser tests: run it on a Playwright page,
get its violations as readable lines, and keep a tally of every page x locale x width checked so
the session can print the accessibility counts (see `conftest.pytest_terminal_summary`).

Reuse: take the session fixture `axe` and call `axe.check(page, "name", locale, width)`; it returns
the violations (an empty list is a pass). All of axe's rules run (WCAG 2.0-2.2 A and AA, and its
best practices), so a page passes only with none at all."""

from __future__ import annotations

from dataclasses import dataclass, field

# The views every person-facing page is checked in: English and Thai, desktop and a 390 px phone
# (the phone is a touch device, as phones are: the exit-intent dialog is triggered by touch there).
LOCALES = {"en": "en-US", "th": "th-TH"}
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
VIEWS = [(locale, width) for locale in LOCALES for width in WIDTHS]
# Headless Chromium names itself in its user agent, and the offers API answers bots with nothing.
USER_AGENTS = {
    "desktop": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    "phone": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36",
}


def new_view(browser, locale: str, width: str):
    """A context (its own storage: a new visitor) for one view, with one page."""
    phone = width == "phone"
    context = browser.new_context(
        locale=LOCALES[locale],
        viewport=WIDTHS[width],
        is_mobile=phone,
        has_touch=phone,
        user_agent=USER_AGENTS[width],
        reduced_motion="reduce",
    )
    return context, context.new_page()


# Every rule runs; only what `check` reads comes back to Python. axe's whole result (each rule that
# passed or did not apply, with its descriptions and an HTML snippet of an element) took the
# driver and this process more CPU to hand over and parse than a page took to load.
RUN = """([context, options]) => axe.run(context || document, options).then(result => ({
  version: result.testEngine.version,
  violations: result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map(node => node.target),
  })),
}))"""


def preload(context) -> None:
    """axe-core in every document `context` opens (it does nothing until run): Chromium adds it
    itself, instead of Playwright's driver carrying the 570 kB script to each page to be checked."""
    from axe_playwright_python.base import AXE_SCRIPT

    context.add_init_script(AXE_SCRIPT)


@dataclass
class Checked:
    page: str
    locale: str
    width: str
    violations: list[str]


@dataclass
class AxeTally:
    checked: list[Checked] = field(default_factory=list)
    version: str = ""

    def check(self, page, name: str, locale: str, width: str, context=None) -> list[str]:
        """axe's violations on `page` as it is now (`context`: a selector to limit it to)."""
        from axe_playwright_python.sync_playwright import DEFAULT_OPTIONS, Axe

        # axe-core (570 kB) goes into a document once: the states one page goes through (a dialog,
        # then its email form) are checked by the copy already there, with every rule each time.
        # In a context given to `preload`, Chromium has put it in already.
        if not page.evaluate("() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
            page.evaluate(Axe().axe_script)
        response = page.evaluate(RUN, [context, DEFAULT_OPTIONS])
        self.version = response["version"]
        found = [
            f"{name} [{locale}, {width}] {v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(" ".join(map(str, target)) for target in v["targets"])
            for v in response["violations"]
        ]
        self.checked.append(Checked(name, locale, width, found))
        return found

    def summary(self) -> str:
        if not self.checked:
            return ""
        pages = {c.page for c in self.checked}
        locales = {c.locale for c in self.checked}
        widths = {c.width for c in self.checked}
        violations = sum(len(c.violations) for c in self.checked)
        failing = sorted({c.page for c in self.checked if c.violations})
        return (
            f"axe-core {self.version}: {len(self.checked)} page views checked "
            f"({len(pages)} pages x {len(locales)} locales x {len(widths)} widths), "
            f"{violations} violations" + (f" on {', '.join(failing)}" if failing else "")
        )


TALLY = AxeTally()
