"""Against the running `chalice local` on the embedded DynamoDB server, sending exactly what
Gmail and Yahoo send."""

import threading

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tests.helpers import YAHOO_BOUNDARY, multipart, subscriber_of

pytestmark = pytest.mark.server


def new_subscriber(stack, email):
    response = stack.admin("POST", "/v1/lists/newsletter/subscribers", {"email": email})
    assert response.status_code == 201, response.text
    return stack.link(email)


def test_the_demo_data_is_seeded_with_a_working_link(local_stack):
    assert local_stack.demo["lists"] == ["newsletter", "product-updates"]
    page = requests.get(local_stack.demo["open_in_a_browser"], timeout=10)
    assert page.status_code == 200 and "The Offboard Weekly" in page.text


def test_gmail_one_click(local_stack):
    url = new_subscriber(local_stack, "gmail-user@example.com")
    response = requests.post(
        url,
        data="List-Unsubscribe=One-Click",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "Mozilla/5.0 (compatible; Google-Unsubscribe)",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert local_stack.allowed("gmail-user@example.com")["reason"] == "unsubscribed"


def test_yahoo_one_click_as_multipart(local_stack):
    url = new_subscriber(local_stack, "yahoo-user@example.com")
    response = requests.post(
        url,
        data=multipart({"List-Unsubscribe": "One-Click"}),
        headers={"Content-Type": f"multipart/form-data; boundary={YAHOO_BOUNDARY}", "User-Agent": "YahooMailProxy"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 200
    [event] = [e for e in local_stack.events(subscriber_of(url)) if e["action"] == "unsubscribe"]
    assert event["source"] == "one-click" and event["user_agent"] == "YahooMailProxy" and len(event["ip_hash"]) == 32


def test_a_scanner_fetching_the_link_changes_nothing(local_stack):
    url = new_subscriber(local_stack, "scanned@example.com")
    for _ in range(3):
        assert requests.get(url, timeout=10).status_code == 200
        assert requests.head(url, timeout=10).status_code in (200, 405)
    assert local_stack.allowed("scanned@example.com")["allowed"] is True


def test_a_tampered_link_gets_400_and_changes_nothing(local_stack):
    url = new_subscriber(local_stack, "tamper@example.com")
    response = requests.post(
        url[:-2] + "xx",
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_token"
    assert local_stack.allowed("tamper@example.com")["allowed"] is True


def test_fifty_simultaneous_one_click_posts_leave_one_unsubscribe_event(local_stack):
    url = new_subscriber(local_stack, "concurrent@example.com")
    start = threading.Barrier(50)
    answers: list[int] = []

    def post():
        with requests.Session() as session:
            # `chalice local` listens with a backlog of 5, so some of 50 simultaneous connections are
            # reset before they reach the handler; like a mailbox provider, the client then retries.
            retry = Retry(total=10, connect=10, read=10, backoff_factor=0.05, allowed_methods=None)
            session.mount("http://", HTTPAdapter(max_retries=retry))
            start.wait()
            response = session.post(
                url,
                data="List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=60,
            )
            answers.append(response.status_code)

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 50
    events = local_stack.events(subscriber_of(url))
    assert [e["action"] for e in events].count("unsubscribe") == 1
    assert local_stack.allowed("concurrent@example.com")["reason"] == "unsubscribed"
