"""The pages people see: choose, survey, confirmation, undo (all through `chalice.test.Client`)."""

import re
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import subscriber_of

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def follow(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def choose(api, path, choice):
    response = api.http.post(path, headers=FORM, body=f"choice={choice}".encode())
    assert response.status_code == 303, response.body
    return follow(response.headers["Location"])


def hidden_event(html: bytes) -> str:
    return re.search(rb'name="event" value="([^"]+)"', html).group(1).decode()


def test_the_landing_page_offers_list_all_and_pause_with_nothing_preselected(api):
    page = api.http.get(api.link("alice@example.com"))
    html = page.body.decode()
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'name="viewport"' in html and "<script" not in html
    for choice in ("list", "all", "pause30", "pause90"):
        assert f'name="choice" value="{choice}"' in html
    assert "checked" not in html and "selected" not in html
    assert "The Weekly" in html and "--accent: #aa3300" in html


def test_choosing_this_list_unsubscribes_before_the_survey_is_shown(api):
    path = api.link("alice@example.com")
    survey = choose(api, path, "list")
    assert api.allowed("alice@example.com")["reason"] == "unsubscribed"
    page = api.http.get(survey).body.decode()
    assert "You are unsubscribed from The Weekly" in page
    assert page.count('type="radio"') == 5 and "checked" not in page  # the newsletter defaults
    assert api.allowed("alice@example.com", "promo")["allowed"] is True


def test_the_survey_answer_is_stored_with_the_event_and_the_confirmation_offers_undo(api):
    path = api.link("alice@example.com")
    survey = choose(api, path, "list")
    event = hidden_event(api.http.get(survey).body)
    answer = api.http.post(
        path + "/survey", headers=FORM, body=f"event={event}&reason=too_many_emails&comment=weekly+is+a+lot".encode()
    )
    assert answer.status_code == 303
    done = api.http.get(follow(answer.headers["Location"]))
    assert b"Thank you for your answer" in done.body and b"Undo: subscribe me again" in done.body
    [stored] = [e for e in api.events(subscriber_of(path)) if e["action"] == "unsubscribe"]
    assert (stored["reason"], stored["comment"], stored["source"]) == ("too_many_emails", "weekly is a lot", "page")


def test_skipping_or_sending_an_empty_survey_stores_nothing(api):
    path = api.link("alice@example.com")
    event = hidden_event(api.http.get(choose(api, path, "list")).body)
    answer = api.http.post(path + "/survey", headers=FORM, body=f"event={event}&comment=".encode())
    assert answer.status_code == 303 and "/done" in answer.headers["Location"]
    assert all("reason" not in e for e in api.events(subscriber_of(path)))


def test_an_invalid_survey_answer_is_a_friendly_400(api):
    path = api.link("alice@example.com")
    event = hidden_event(api.http.get(choose(api, path, "list")).body)
    answer = api.http.post(path + "/survey", headers=FORM, body=f"event={event}&reason=hate_you".encode())
    assert answer.status_code == 400 and b"choose one of the listed reasons" in answer.body


def test_undo_resubscribes_and_is_recorded(api):
    path = api.link("alice@example.com")
    done = api.http.get(choose(api, path, "list").replace("/survey", "/done"))
    event = hidden_event(done.body)
    undo = api.http.post(path + "/undo", headers=FORM, body=f"event={event}".encode())
    assert undo.status_code == 303
    assert b"You are subscribed to The Weekly again" in api.http.get(follow(undo.headers["Location"])).body
    assert api.allowed("alice@example.com")["allowed"] is True
    again = api.http.post(path + "/undo", headers=FORM, body=f"event={event}".encode())
    assert again.status_code == 303 and again.headers["Location"] == undo.headers["Location"]  # what the first did
    choose(api, path, "pause30")  # a later choice: undoing the old unsubscribe is no longer possible
    assert api.http.post(path + "/undo", headers=FORM, body=f"event={event}".encode()).status_code == 409
    actions = [e["action"] for e in api.events(subscriber_of(path))]
    assert actions.count("unsubscribe") == 1 and actions.count("resubscribe") == 1


def test_undo_is_post_only(api):
    path = api.link("alice@example.com")
    assert api.http.get(path + "/undo").status_code in (403, 404, 405)


def test_stop_everything_leaves_every_list_on_every_channel(api):
    path = api.link("alice@example.com")
    page = api.http.get(choose(api, path, "all")).body
    assert b"You are unsubscribed from all our lists" in page
    for list_id in ("newsletter", "promo"):
        for channel in ("email", "sms", "push"):
            assert api.allowed("alice@example.com", list_id, channel)["allowed"] is False


@pytest.mark.parametrize("choice, days", [("pause30", 30), ("pause90", 90)])
def test_pausing(api, choice, days):
    path = api.link("alice@example.com")
    page = api.http.get(choose(api, path, choice)).body.decode()
    assert "is paused until" in page
    assert api.allowed("alice@example.com")["reason"] == "paused"
    [event] = [e for e in api.events(subscriber_of(path)) if e["action"] == "pause"]
    assert event["until"] > event["at"]


def test_an_unknown_choice_is_a_friendly_400(api):
    path = api.link("alice@example.com")
    response = api.http.post(path, headers=FORM, body=b"choice=delete_my_account")
    assert response.status_code == 400 and b"Please choose one of the options" in response.body
    assert api.allowed("alice@example.com")["allowed"] is True


def test_pages_speak_thai_when_asked(api):
    path = api.link("alice@example.com")
    page = api.http.get(path, headers={"Accept-Language": "th-TH,th;q=0.9,en;q=0.5"}).body.decode()
    assert '<html lang="th">' in page and "ยกเลิกเฉพาะ The Weekly" in page
    bad = api.http.get(path[:-4], headers={"Accept-Language": "th"}).body.decode()
    assert "ลิงก์นี้ไม่ถูกต้อง" in bad


def test_a_follow_up_page_for_another_subscribers_event_is_404(api):
    alice, bob = api.link("alice@example.com"), api.link("bob@example.com")
    survey = choose(api, alice, "list")
    event = survey.split("event=")[1]
    assert api.http.get(f"{bob}/done?event={event}").status_code == 404
    assert api.http.get(f"{bob}/survey?event=garbage").status_code == 404


def test_the_survey_after_a_pause_says_paused_in_both_languages(api):
    path = api.link("alice@example.com")
    survey = choose(api, path, "pause30")
    english = api.http.get(survey).body.decode()
    thai = api.http.get(survey, headers={"Accept-Language": "th"}).body.decode()
    assert "Your pause is set" in english and "unsubscribed" not in english.lower()
    assert "หยุดชั่วคราวเรียบร้อยแล้ว" in thai and "ยกเลิกการรับอีเมลแล้ว" not in thai


def test_a_survey_answer_without_an_event_is_a_friendly_404_not_a_500(api):
    path = api.link("alice@example.com")
    for body in (b"reason=other", b"reason=other&event=", b"reason=other&event=EVENT%23nope", b"event=x&comment=hi"):
        response = api.http.post(path + "/survey", headers=FORM, body=body)
        assert response.status_code == 404 and response.headers["Content-Type"].startswith("text/html"), body


def test_a_long_thai_comment_within_the_forms_maxlength_is_stored(api):
    from urllib.parse import quote

    path = api.link("alice@example.com")
    event = hidden_event(api.http.get(choose(api, path, "list")).body)
    comment = "ก" * 2000  # the textarea's maxlength, 3 bytes each in UTF-8, 9 percent-encoded
    body = f"event={quote(event)}&reason=other&comment={quote(comment)}".encode()
    answer = api.http.post(path + "/survey", headers=FORM, body=body)
    assert answer.status_code == 303, answer.body[:300]
    [stored] = [e for e in api.events(subscriber_of(path)) if e["action"] == "unsubscribe"]
    assert stored["comment"] == comment


def test_stop_everything_twice_shows_the_same_truthful_confirmation(api):
    path = api.link("alice@example.com")
    first, second = choose(api, path, "all"), choose(api, path, "all")
    assert first == second
    events = [e for e in api.events(subscriber_of(path)) if e["action"] == "unsubscribe_all"]
    assert len(events) == 1
