"""`resubscribe` is consent given again: only a JSON boolean is read; anything else is a 400
naming the field (it was silently read as "no" before)."""

import pytest


@pytest.mark.parametrize("value", ["yes", 1, "true", [], {}, None])
def test_resubscribe_that_is_no_boolean_is_refused(api, value):
    response = api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "x@example.com", "resubscribe": value})
    assert response.status_code == 400 and response.json_body["error"] == "bad_field"
    assert "resubscribe" in response.json_body["message"]


def test_resubscribe_true_and_false_are_read(api):
    ok = api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "y@example.com", "resubscribe": False})
    assert ok.status_code == 201
    again = api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "y@example.com", "resubscribe": True})
    assert again.status_code in (200, 201)
