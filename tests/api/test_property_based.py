"""Property-based tests of the public endpoints in process: whatever arrives, no 5xx, no stack
trace, and nothing changes unless the request was accepted."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FORM_TYPES = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "multipart/form-data",
        "text/plain",
        "application/json",
        "",
    ]
)
TOKENISH = st.text(alphabet=string.ascii_letters + string.digits + "._-", max_size=120)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=600), content_type=FORM_TYPES)
def test_one_click_never_fails_and_changes_nothing_unless_accepted(api, body, content_type):
    api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "alice@example.com", "resubscribe": True})
    assert api.allowed("alice@example.com")["allowed"] is True  # each example starts subscribed
    path = api.link("alice@example.com")
    response = api.http.post(path, headers={"Content-Type": content_type} if content_type else {}, body=body)
    assert response.status_code < 500 and b"Traceback" not in response.body
    if response.status_code not in (200, 202, 303):
        assert api.allowed("alice@example.com")["allowed"] is True


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=TOKENISH, suffix=st.sampled_from(["", "/survey", "/done", "/keep"]), event=st.text(max_size=40))
def test_pages_never_fail_on_any_token(api, token, suffix, event):
    from urllib.parse import quote

    response = api.http.get(f"/u/{quote(token, safe='')}{suffix}?event={quote(event, safe='')}")
    assert response.status_code < 500 and b"Traceback" not in response.body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    payload=st.dictionaries(
        st.sampled_from(
            [
                "site_key",
                "visitor_id",
                "page_url",
                "cart_value",
                "currency",
                "device",
                "seconds_on_page",
                "known_customer",
                "code",
                "event",
                "email",
            ]
        ),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=80)),
    ),
    path=st.sampled_from(["/offers/decide", "/offers/events", "/offers/email", "/offers/conversions"]),
)
def test_offer_endpoints_never_fail(api, payload, path):
    import json

    body = json.dumps(payload).encode()
    response = api.http.post(
        path, headers={"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 (X11) Chrome/130"}, body=body
    )
    assert response.status_code < 500 and b"Traceback" not in response.body
