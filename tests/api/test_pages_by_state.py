"""Issue 17 item 9, over HTTP (`chalice.test.Client`): a link's page fits the person's state (left:
the way back in; paused: the pause, its end and resume; less often: every email again), the exit
survey's reasons are the list's own, and a broken or cut link still offers a way out (fresh links
by email, the same answer for any address, rate limited; the list's mailto)."""

import re
from urllib.parse import urlsplit

import pytest

from chalicelib.core.settings import get_settings
from chalicelib.unsubscribe import link_request, tokens
from tests.api.conftest import subscriber_of
from tests.api.test_pages import FORM, choose, follow

RESUBSCRIBE_FORM = re.compile(r'<form method="post" action="[^"]+/resubscribe">')


@pytest.fixture(autouse=True)
def fresh_limits():
    link_request.PER_CLIENT.clear()
    link_request.PER_ADDRESS.clear()
    yield
    link_request.PER_CLIENT.clear()
    link_request.PER_ADDRESS.clear()


def test_someone_who_left_sees_that_and_a_way_back_in_not_the_same_buttons(api):
    path = api.link("alice@example.com")
    choose(api, path, "list")
    html = api.http.get(path).body.decode()
    assert "You are unsubscribed from The Weekly" in html
    assert RESUBSCRIBE_FORM.search(html) and "Subscribe me to The Weekly again" in html
    for gone in ('value="list"', 'value="pause30"', 'value="pause90"'):
        assert gone not in html
    assert 'value="all"' in html  # the other lists can still be stopped from here
    assert api.allowed("alice@example.com")["reason"] == "unsubscribed"  # the GET changed nothing


def test_someone_who_stopped_everything_is_not_offered_it_again(api):
    path = api.link("alice@example.com")
    choose(api, path, "all")
    html = api.http.get(path).body.decode()
    assert "You have also stopped all our other emails." in html and 'name="choice"' not in html
    assert RESUBSCRIBE_FORM.search(html)


def test_resubscribing_is_a_consent_change_through_the_planner(api):
    path = api.link("alice@example.com")
    choose(api, path, "list")
    answer = api.http.post(path + "/resubscribe", headers=FORM, body=b"")
    assert answer.status_code == 303 and "/done?event=" in answer.headers["Location"]
    assert "You are subscribed to The Weekly again." in api.http.get(follow(answer.headers["Location"])).body.decode()
    assert api.allowed("alice@example.com")["allowed"] is True
    actions = [(e["action"], e["source"], e["list_id"]) for e in api.events(subscriber_of(path))]
    assert actions[-1] == ("resubscribe", "page", "newsletter")
    again = api.http.post(path + "/resubscribe", headers=FORM, body=b"")  # a double click: nothing more
    assert again.status_code == 303 and urlsplit(again.headers["Location"]).path == path
    assert [e["action"] for e in api.events(subscriber_of(path))].count("resubscribe") == 1
    assert "Subscribe me to" not in api.http.get(path).body.decode()


def test_a_resubscribe_needs_a_valid_link_and_get_does_nothing(api):
    path = api.link("alice@example.com")
    choose(api, path, "list")
    assert api.http.post(path[:-3] + "/resubscribe", headers=FORM, body=b"").status_code == 400
    assert api.http.get(path + "/resubscribe").status_code in (403, 404, 405)
    assert api.allowed("alice@example.com")["reason"] == "unsubscribed"


def test_paused_people_see_the_pause_its_end_and_resume(api):
    path = api.link("bob@example.com")
    choose(api, path, "pause30")
    html = api.http.get(path).body.decode()
    until = re.search(r"The Weekly is paused until (\d{4}-\d\d-\d\d)\.", html)
    assert until, html
    assert "Resume The Weekly now" in html and 'value="pause30"' not in html and 'value="list"' in html
    answer = api.http.post(path + "/resume", headers=FORM, body=b"")
    assert answer.status_code == 303
    assert "The Weekly is no longer paused." in api.http.get(follow(answer.headers["Location"])).body.decode()
    assert api.allowed("bob@example.com")["allowed"] is True
    assert [e["action"] for e in api.events(subscriber_of(path))][-1] == "resume"
    # resumed already: a second click records nothing and shows the page as it is now
    again = api.http.post(path + "/resume", headers=FORM, body=b"")
    assert urlsplit(again.headers["Location"]).path == path
    assert [e["action"] for e in api.events(subscriber_of(path))].count("resume") == 1
    assert "Resume The Weekly now" not in api.http.get(path).body.decode()


def test_the_frequency_page_offers_every_email_again(api):
    frequencies = {"frequencies": [{"id": "weekly", "label": "Weekly digest"}]}
    assert api.admin("PUT", "/v1/lists/newsletter/frequencies", frequencies).status_code == 200
    path = api.link("alice@example.com")
    assert 'value="frequency:*"' not in api.http.get(path).body.decode()  # gets every email already
    choose(api, path, "frequency:weekly")
    html = api.http.get(path).body.decode()
    assert 'value="frequency:*"' in html and "Switch back to: every email" in html
    assert 'value="frequency:weekly"' not in html  # the frequency held is not offered again
    done = choose(api, path, "frequency:*")
    assert "You will get every email of The Weekly again, as before." in api.http.get(done).body.decode()
    last = api.events(subscriber_of(path))[-1]
    assert last["action"] == "frequency" and last.get("frequency") is None and last["frequency_before"] == "weekly"
    assert 'value="frequency:*"' not in api.http.get(path).body.decode()


def test_survey_reasons_are_the_lists_own_never_preselected_and_checked_on_answer(api):
    branding = {"accent_color": "#1f5fbf", "survey_reasons": ["too_expensive", "switched_service", "other"]}
    created = api.admin("POST", "/v1/lists", {"list_id": "shop", "name": "Shop news", "branding": branding})
    assert created.status_code == 201, created.body
    assert api.admin("POST", "/v1/lists/shop/subscribers", {"email": "carol@example.com"}).status_code == 201
    path = api.link("carol@example.com", "shop")
    survey = choose(api, path, "list")
    html = api.http.get(survey).body.decode()
    assert re.findall(r'name="reason" value="([a-z_]+)"', html) == ["too_expensive", "switched_service", "other"]
    assert "checked" not in html
    event = re.search(r'name="event" value="([^"]+)"', html).group(1)
    refused = api.http.post(path + "/survey", headers=FORM, body=f"event={event}&reason=never_signed_up".encode())
    assert refused.status_code == 400  # a reason this list does not ask
    answered = api.http.post(path + "/survey", headers=FORM, body=f"event={event}&reason=too_expensive".encode())
    assert answered.status_code == 303 and "thanks=1" in answered.headers["Location"]


def test_the_newsletter_defaults_and_their_thai_texts(api):
    path = api.link("alice@example.com")
    survey = choose(api, path, "list")
    html = api.http.get(survey).body.decode()
    assert re.findall(r'name="reason" value="([a-z_]+)"', html) == [
        "too_many_emails",
        "not_relevant",
        "never_signed_up",
        "prefer_other_channel",
        "other",
    ]
    thai = api.http.get(survey, headers={"Accept-Language": "th"}).body.decode()
    assert "ฉันไม่เคยสมัครรับรายการนี้" in thai and 'lang="th"' in thai


@pytest.mark.parametrize("bad", [["too_expensive", "too_expensive"], ["bored"], "other", [f"r{i}" for i in range(11)]])
def test_bad_survey_reasons_are_refused_when_the_list_is_made(api, bad):
    body = {"list_id": "badsurvey", "name": "Bad", "branding": {"survey_reasons": bad}}
    response = api.admin("POST", "/v1/lists", body)
    assert response.status_code == 400 and response.json_body["error"] == "bad_branding", response.body


def cut(path: str) -> str:
    return path[:-12]


@pytest.mark.parametrize("make", [cut, lambda p: p[:-1] + ("A" if p[-1] != "A" else "B"), lambda p: "/u/nonsense"])
def test_a_broken_link_still_offers_a_way_out_and_no_unsubscribe_buttons(api, make):
    page = api.http.get(make(api.link("alice@example.com")))
    html = page.body.decode()
    assert page.status_code == 400
    assert "This link is not valid" in html
    assert '<form method="post" action="https://unsubscribe.example.test/unsubscribe/request">' in html
    assert 'type="email" name="email"' in html and 'name="choice"' not in html


def test_a_link_to_a_list_that_is_gone_offers_the_form_too(api):
    settings = get_settings()
    token = tokens.sign(settings.signing_keys, settings.signing_key_id, "s" + "a" * 24, "gone-list")
    page = api.http.get(f"/u/{token}")
    assert page.status_code == 404 and "/unsubscribe/request" in page.body.decode()


def test_a_cut_link_that_names_a_list_offers_its_mailto(api, monkeypatch):
    monkeypatch.setenv("UNSUBSCRIBE_MAILTO", "unsubscribe@mail.example.test")
    from chalicelib.core.settings import forget_settings

    forget_settings()
    html = api.http.get(cut(api.link("alice@example.com"))).body.decode()
    assert 'href="mailto:unsubscribe+newsletter@mail.example.test?subject=unsubscribe"' in html


def request_link(api, email: str):
    return api.http.post("/unsubscribe/request", headers=FORM, body=f"email={email}".encode())


def test_the_link_request_answers_the_same_for_known_and_unknown_addresses(api, monkeypatch):
    sent = []
    monkeypatch.setattr(
        link_request, "_send", lambda email, sid, list_ids, language: sent.append((email, list_ids, language))
    )
    form = api.http.get("/unsubscribe/request")
    assert form.status_code == 200 and 'name="email"' in form.body.decode() and sent == []  # GET sends nothing
    known, unknown = request_link(api, "alice@example.com"), request_link(api, "nobody@example.com")
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert known.body == unknown.body and b"If this address gets emails from us" in known.body
    assert sent == [("alice@example.com", ["newsletter", "promo"], "en")]
    assert request_link(api, "alice@example.com").body == known.body  # within the window: not mailed again
    assert len(sent) == 1


def test_an_address_that_left_everything_gets_no_email_but_the_same_answer(api, monkeypatch):
    sent = []
    monkeypatch.setattr(link_request, "_send", lambda email, sid, list_ids, language: sent.append(list_ids))
    choose(api, api.link("bob@example.com"), "all")
    answer = request_link(api, "bob@example.com")
    assert answer.status_code == 200 and b"If this address gets emails from us" in answer.body and sent == []


def test_link_requests_are_rate_limited_per_client(api, monkeypatch):
    monkeypatch.setattr(link_request, "_send", lambda *args: None)
    answers = [request_link(api, f"someone{n}@example.com").status_code for n in range(6)]
    assert answers == [200] * 5 + [429]
    assert "You have asked many times" in request_link(api, "someone@example.com").body.decode()
    # another client is not held back by the first one
    assert link_request.request_links("someone@example.com", "203.0.113.10") == link_request.LinkRequested()
    link_request.PER_CLIENT.clear()
    assert request_link(api, "not an address").status_code == 400


def test_the_email_carries_fresh_signed_links_for_each_list(api):
    settings = get_settings()
    sid = subscriber_of(api.link("alice@example.com"))
    message = link_request.build_message("alice@example.com", sid, ["newsletter", "promo"])
    text = message.get_body(("plain",)).get_content()
    links = re.findall(r"https://unsubscribe\.example\.test/u/(\S+)", text)
    assert [tokens.verify(settings.signing_keys, link).list_id for link in links] == ["newsletter", "promo"]
    assert {tokens.verify(settings.signing_keys, link).subscriber_id for link in links} == {sid}
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and message["To"] == "alice@example.com"
    thai = link_request.build_message("alice@example.com", sid, ["newsletter"], "th")
    assert thai["Subject"] == "ลิงก์ยกเลิกการรับอีเมลของคุณ"
    assert "ยกเลิกการรับ The Weekly" in thai.get_body(("html",)).get_content()
