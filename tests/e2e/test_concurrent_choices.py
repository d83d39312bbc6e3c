"""Double submits and 20-way concurrency on every person-facing POST, against `chalice local` on
the embedded DynamoDB server: one consent event, and every answer tells the same truth."""

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tests.helpers import subscriber_of

pytestmark = pytest.mark.server
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
WAYS = 20


def new_link(stack, email):
    assert stack.admin("POST", "/v1/lists/newsletter/subscribers", {"email": email}).status_code == 201
    return stack.link(email)


def post(url, body):
    # `chalice local` listens with a backlog of 5: some of 20 simultaneous connections are reset
    # before they reach the handler, and the client retries, as a browser or provider would.
    with requests.Session() as session:
        retry = Retry(total=10, connect=10, read=10, backoff_factor=0.05, allowed_methods=None)
        session.mount("http://", HTTPAdapter(max_retries=retry))
        return session.post(url, data=body, headers=FORM, allow_redirects=False, timeout=60)


def at_once(url, body, n=WAYS):
    start = threading.Barrier(n)

    def one(_):
        start.wait()
        return post(url, body)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def actions(stack, url, action):
    return [e for e in stack.events(subscriber_of(url)) if e["action"] == action]


@pytest.mark.parametrize(
    ("choice", "action"), [("list", "unsubscribe"), ("all", "unsubscribe_all"), ("pause30", "pause")]
)
def test_twenty_identical_choices_record_one_event_and_answer_alike(local_stack, choice, action):
    url = new_link(local_stack, f"many-{choice}@example.com")
    answers = at_once(url, f"choice={choice}")
    assert {a.status_code for a in answers} == {303}
    assert len({a.headers["Location"] for a in answers}) == 1  # the same survey of the same event
    [event] = actions(local_stack, url, action)
    assert quote(event["event_id"], safe="") in answers[0].headers["Location"]


def test_twenty_one_clicks_record_one_unsubscribe(local_stack):
    url = new_link(local_stack, "many-one-click@example.com")
    answers = at_once(url, "List-Unsubscribe=One-Click")
    assert {a.status_code for a in answers} == {200}
    assert len(actions(local_stack, url, "unsubscribe")) == 1


def test_twenty_survey_answers_store_one_and_count_one(local_stack):
    url = new_link(local_stack, "many-survey@example.com")
    first = post(url, "choice=list")
    event = urlsplit(first.headers["Location"]).query.split("event=")[1]
    before = local_stack.admin("GET", "/v1/reports/unsubscribe-reasons?list_id=newsletter").json()
    answers = at_once(url + "/survey", f"event={event}&reason=never_signed_up&comment=one")
    assert {a.status_code for a in answers} == {303}
    [stored] = actions(local_stack, url, "unsubscribe")
    assert stored["reason"] == "never_signed_up"
    after = local_stack.admin("GET", "/v1/reports/unsubscribe-reasons?list_id=newsletter").json()

    def never_signed_up(report):
        return sum(m["reasons"]["never_signed_up"]["count"] for m in report["months"])

    assert never_signed_up(after) == never_signed_up(before) + 1


def test_twenty_undos_resubscribe_once_and_every_answer_shows_it(local_stack):
    url = new_link(local_stack, "many-undo@example.com")
    first = post(url, "choice=list")
    event = urlsplit(first.headers["Location"]).query.split("event=")[1]
    answers = at_once(url + "/undo", f"event={event}")
    assert {a.status_code for a in answers} == {303}, {a.status_code for a in answers}
    assert len({a.headers["Location"] for a in answers}) == 1
    assert len(actions(local_stack, url, "resubscribe")) == 1
    assert local_stack.allowed("many-undo@example.com")["allowed"] is True


def test_twenty_keep_clicks_all_say_still_subscribed(local_stack):
    url = new_link(local_stack, "many-keep@example.com")
    answers = at_once(url + "/keep", "")
    assert {a.status_code for a in answers} == {200}
    assert all("still subscribed" in a.text for a in answers)
    assert actions(local_stack, url, "resubscribe") == [] and local_stack.allowed("many-keep@example.com")["allowed"]
