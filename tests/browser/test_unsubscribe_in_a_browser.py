"""A person on a phone-sized window: open the link, click unsubscribe, answer the survey."""

import pytest

from tests.helpers import subscriber_of

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_unsubscribe_answer_the_survey_and_see_the_confirmation(local_stack, page, tmp_path):
    local_stack.admin(
        "POST", "/v1/lists/newsletter/subscribers", {"email": "browser-user@example.com"}
    ).raise_for_status()
    url = local_stack.link("browser-user@example.com")

    page.goto(url)
    assert page.title().startswith("Unsubscribe")
    page.get_by_role("button", name="Unsubscribe from The Offboard Weekly only").click()

    page.wait_for_url("**/survey?event=*")
    assert page.get_by_role("status").inner_text().startswith("You are unsubscribed from The Offboard Weekly")
    assert local_stack.allowed("browser-user@example.com")["reason"] == "unsubscribed"
    radios = page.get_by_role("radio")
    assert radios.count() == 5 and not any(radios.nth(i).is_checked() for i in range(5))  # newsletter defaults

    page.get_by_label("I prefer to hear from you another way").check()
    page.get_by_label("Anything else? (optional)").fill("Found one with a dark mode")
    page.get_by_role("button", name="Send answer").click()

    page.wait_for_url("**/done?event=*")
    assert page.get_by_text("Thank you for your answer.").is_visible()
    assert "You will not get any more emails from this list" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Undo: subscribe me again").is_visible()
    page.screenshot(path=str(tmp_path / "confirmation.png"), full_page=True)
    assert (tmp_path / "confirmation.png").stat().st_size > 0

    [event] = [e for e in local_stack.events(subscriber_of(url)) if e["action"] == "unsubscribe"]
    assert (event["source"], event["reason"], event["comment"]) == (
        "page",
        "prefer_other_channel",
        "Found one with a dark mode",
    )


def test_undo_from_the_confirmation_page(local_stack, page):
    local_stack.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "undo-user@example.com"}).raise_for_status()
    url = local_stack.link("undo-user@example.com")
    page.goto(url)
    page.get_by_role("button", name="Pause The Offboard Weekly for 30 days").click()
    page.wait_for_url("**/survey?event=*")
    page.get_by_role("link", name="Skip").click()
    page.get_by_role("button", name="Undo: end the pause").click()
    page.wait_for_url("**/done?event=*")
    assert "no longer paused" in page.get_by_role("status").inner_text()
    assert local_stack.allowed("undo-user@example.com")["allowed"] is True
