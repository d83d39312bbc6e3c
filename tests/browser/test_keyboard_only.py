"""Each flow done with the keyboard alone (Tab, Shift+Tab, Enter, Space, Escape; no pointer on any
control): leave one list and answer the survey, stop everything and skip the survey, undo, the
exit-intent dialog dismissed and accepted, and the cancellation flow to cancelled. Every control
reached shows a visible focus outline."""

from urllib.parse import urlsplit

import pytest

from tests.browser.axe import new_view
from tests.browser.test_accessibility import cancel_body, shop_page, shown_an_offer, trigger_exit_intent

pytestmark = [pytest.mark.browser, pytest.mark.server]

# The element with focus (inside the snippet's shadow root too), its name and its focus outline.
FOCUSED = """() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a || a === document.body) return null;
  const label = a.labels && a.labels.length ? a.labels[0].innerText : "";
  const s = getComputedStyle(a);
  return {name: (label || a.getAttribute("aria-label") || a.innerText || a.value || "").trim(),
          outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth)};
}"""


@pytest.fixture(scope="module")
def keyboard(browser):
    context, page = new_view(browser, "en", "desktop")
    yield page
    context.close()


def tab_to(page, name: str, key: str = "Tab", limit: int = 30) -> None:
    """Press `key` until the control named `name` has focus; each control passed shows its focus."""
    for _ in range(limit):
        page.keyboard.press(key)
        focused = page.evaluate(FOCUSED)
        if focused is None:
            continue
        # focus visible: our 3 px outline, or the browser's own ring (the shop's search box)
        assert focused["outline"] == "auto" or (focused["outline"] != "none" and focused["outlineWidth"] >= 2), focused
        if focused["name"].startswith(name):
            return
    raise AssertionError(f"{name!r} is not reachable with {key}")


def new_link(stack, email: str) -> str:
    """A member of a list of its own: the demo's lists keep the members the CLI's tests count."""
    created = stack.admin("POST", "/v1/lists", {"list_id": "keys-list", "name": "Keys Weekly"})
    assert created.status_code in (201, 409), created.text
    stack.admin("POST", "/v1/lists/keys-list/subscribers", {"email": email}).raise_for_status()
    return stack.link(email, "keys-list")


def test_leave_one_list_answer_the_survey_and_undo_by_keyboard(local_stack, keyboard):
    page = keyboard
    page.goto(new_link(local_stack, "keys-one@example.com"))
    tab_to(page, "Unsubscribe from Keys Weekly only")
    page.keyboard.press("Enter")
    page.wait_for_url("**/survey?event=*")
    assert local_stack.allowed("keys-one@example.com", "keys-list")["reason"] == "unsubscribed"

    tab_to(page, "Too many emails")
    page.keyboard.press("Space")
    assert page.get_by_label("Too many emails").is_checked()
    tab_to(page, "Send answer")
    page.keyboard.press("Enter")
    page.wait_for_url("**/done?event=*")
    assert page.get_by_text("Thank you for your answer.").is_visible()

    tab_to(page, "Undo: subscribe me again")
    page.keyboard.press("Space")
    page.wait_for_function("() => document.body.innerText.includes('subscribed to Keys Weekly again')")
    assert local_stack.allowed("keys-one@example.com", "keys-list")["allowed"] is True


def test_stop_everything_skip_the_survey_and_come_back_by_keyboard(local_stack, keyboard):
    page = keyboard
    link = new_link(local_stack, "keys-all@example.com")
    page.goto(link)
    tab_to(page, "Unsubscribe from all our lists")
    page.keyboard.press("Enter")
    page.wait_for_url("**/survey?event=*")
    tab_to(page, "Skip")
    page.keyboard.press("Enter")
    page.wait_for_url("**/done?event=*")
    assert "all our lists" in page.get_by_role("status").inner_text()
    assert local_stack.allowed("keys-all@example.com", "keys-list")["reason"] == "opted_out_all"

    page.goto(link)  # left: the page says so and offers the way back in (and no way to leave again)
    assert page.get_by_text("You have also stopped all our other emails.").is_visible()
    tab_to(page, "Subscribe me to Keys Weekly again")
    page.keyboard.press("Enter")
    page.wait_for_url("**/done?event=*")
    assert local_stack.allowed("keys-all@example.com", "keys-list")["allowed"] is True


@pytest.fixture(scope="module")
def dialog_shop(local_stack, shop_pages):
    site = {"site_key": "keys-dialog", "name": "Keys dialog", "allowed_origins": [shop_pages.origin]}
    assert local_stack.admin("POST", "/v1/sites", site).status_code in (201, 409)
    campaign = {
        "offer": {"kind": "percent", "value": 10, "expires_minutes": 15},
        "variants": [{"variant_id": "a", "texts": {"headline": "Wait, 10% off", "cta": "Copy code"}}],
        "budget": {"total_codes": 1000},
    }
    assert local_stack.admin("PUT", "/v1/sites/keys-dialog/campaigns/exit", campaign).ok
    return shop_pages.add("/shop/keys", shop_page(local_stack.base_url, "keys-dialog", "en"))


@pytest.mark.parametrize("answer", ["dismiss", "accept"])
def test_the_exit_intent_dialog_by_keyboard(browser, dialog_shop, answer):
    context, page = new_view(browser, "en", "desktop")  # a new visitor each time
    context.clock.install()  # for trigger_exit_intent's minimum time on the page
    try:
        page.goto(dialog_shop)
        tab_to(page, "Search")
        trigger_exit_intent(page, "desktop")
        dialog = page.get_by_role("dialog")
        dialog.wait_for(timeout=10_000)
        page.wait_for_function(
            "() => document.querySelector('[data-offboard]').shadowRoot.activeElement?.innerText === 'Copy code'"
        )
        for _ in range(8):  # focus stays inside the dialog, both ways round
            tab_to(page, "", key="Tab")
        tab_to(page, "Copy code", key="Shift+Tab")
        if answer == "dismiss":
            page.keyboard.press("Escape")
            dialog.wait_for(state="detached")
            assert page.evaluate("document.activeElement.id") == "search"  # focus back where it was
        else:
            page.keyboard.press("Enter")
            dialog.get_by_role("status").filter(has_text="Copied ").wait_for()  # the clipboard answers later
            tab_to(page, "Close")
            page.keyboard.press("Space")
            dialog.wait_for(state="detached")
    finally:
        context.close()


def test_the_cancellation_flow_to_cancelled_by_keyboard(local_stack, keyboard):
    from chalicelib.domain.cancel import Reason

    page = keyboard
    subscription_id = shown_an_offer("keys-cancel-", "en", Reason.TOO_EXPENSIVE)
    response = local_stack.admin("POST", "/v1/cancel-sessions", cancel_body(subscription_id, "en"))
    response.raise_for_status()
    page.goto(local_stack.base_url + urlsplit(response.json()["url"]).path)
    tab_to(page, "It is too expensive")
    page.keyboard.press("Space")
    tab_to(page, "Continue", key="Shift+Tab")  # the buttons come first: answering is optional
    page.keyboard.press("Enter")
    page.locator("[data-role=offer]").wait_for()
    tab_to(page, "No thanks, cancel")
    page.keyboard.press("Enter")
    assert "Your subscription is cancelled" in page.get_by_role("status").inner_text()
