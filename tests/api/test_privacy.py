"""Export everything held about a subscriber, and erase it so the opt-out survives."""

import json

from chalicelib.storage import subscribers

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def find(api, email):
    return api.admin("POST", "/v1/subscribers/find", {"email": email}).json_body["subscriber_id"]


def test_export_holds_profile_subscriptions_and_the_consent_trail(api):
    path = api.link("alice@example.com")
    api.http.post(path, headers=FORM, body=b"choice=list")
    sid = find(api, "Alice@Example.com")
    export = api.admin("GET", f"/v1/subscribers/{sid}").json_body
    assert export["profile"]["email"] == "alice@example.com"
    assert {s["list_id"]: s["status"] for s in export["subscriptions"]} == {
        "newsletter": "unsubscribed",
        "promo": "active",
    }
    assert [e["action"] for e in export["consent_events"]] == ["subscribe", "subscribe", "unsubscribe"]
    assert api.admin("GET", "/v1/subscribers/snobody").status_code == 404
    assert api.admin("POST", "/v1/subscribers/find", {"email": "nope"}).status_code == 400


def test_erasure_forgets_the_person_and_keeps_the_choice(api):
    sid = find(api, "alice@example.com")
    erased = api.admin("DELETE", f"/v1/subscribers/{sid}")
    assert erased.status_code == 200 and erased.json_body["lists_kept_as_unsubscribed"] == 2
    export = api.admin("GET", f"/v1/subscribers/{sid}").json_body
    assert "alice" not in json.dumps(export)
    assert export["consent_events"] == [] and export["profile"]["opted_out_all"] is True
    assert {s["status"] for s in export["subscriptions"]} == {"unsubscribed"}
    for list_id in ("newsletter", "promo"):
        assert api.allowed("alice@example.com", list_id)["allowed"] is False
    again = api.admin("POST", "/v1/lists/newsletter/subscribers", {"email": "alice@example.com"})
    assert again.json_body["result"] == "previously_unsubscribed"
    assert subscribers.members_of("newsletter") == 1  # bob
    assert api.admin("DELETE", f"/v1/subscribers/{sid}").status_code == 200  # idempotent


def test_unsubscribe_reasons_by_list_and_month(api):
    import re
    from datetime import UTC, datetime

    for email, reason in (("alice@example.com", "too_many_emails"), ("bob@example.com", "too_many_emails")):
        path = api.link(email)
        survey = api.http.post(path, headers=FORM, body=b"choice=list").headers["Location"]
        event = re.search(r"event=([^&]+)", survey).group(1)
        api.http.post(path + "/survey", headers=FORM, body=f"event={event}&reason={reason}".encode())
    month = f"{datetime.now(UTC):%Y-%m}"
    report = api.admin("GET", "/v1/reports/unsubscribe-reasons?list_id=newsletter").json_body
    [row] = report["months"]
    assert row["month"] == month and row["answers"] == 2
    assert row["reasons"]["too_many_emails"] == {"count": 2, "share": 1.0} and row["reasons"]["other"]["count"] == 0
    assert api.admin("GET", "/v1/reports/unsubscribe-reasons?list_id=newsletter&from=2020-13").status_code == 400
