"""Time in the browser tests without waiting for it: the snippet's timers (its minimum time on the
page, its give-up on a hidden dialog, its countdown) run on Playwright's clock, installed before
the page loads, and "nothing was sent" is read after a request the page makes later, not after a pause.

Reuse: `context.clock.install()` before the first `goto`, then `page.clock.fast_forward(ms)` where
a test used to sleep; `all_requests_seen(page, api)` before asserting that a call was not made."""

from __future__ import annotations


def all_requests_seen(page, api: str) -> None:
    """Return once Playwright has reported every request the page started before this call.

    Chromium reports a page's requests in the order the page starts them, so once a request the
    page starts now is seen, so is any request an earlier click, key or pointer move started (the
    snippet calls `fetch` in its event handlers). The marker is a GET of the snippet (every shop's
    connect-src allows the API origin), no-cors so that a cross-origin shop logs no error for it."""
    marker = f"{api}/offers/snippet.js?requests-seen"
    with page.expect_request(lambda request: request.url == marker):
        page.evaluate("url => { fetch(url, {mode: 'no-cors'}).catch(() => {}); }", marker)
