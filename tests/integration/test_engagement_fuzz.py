"""Type fuzz (issue 9, item 5) through storage and the real entry points: mutated SES records
through `ingest` on moto, the SNS and EventBridge handlers, and the signed HTTP webhook. Nothing
raises but a storage failure, every outcome is a documented one, and the webhook never answers
with a 5xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from chalice.test import Client

from app import app
from chalicelib.core.ids import subscriber_id_for
from chalicelib.storage import lists
from chalicelib.storage.subscribers import AuditContext
from chalicelib.sunset import engagement
from tests.helpers import FIXTURES, RECORD_TYPES, join, record
from tests.unit.sunset.test_engagement_fuzz import WEBHOOK_EVENTS, WRONG, mutations

SECRET = "dev-only-webhook-secret-not-secret"  # the dev stage's, which chalice.test.Client sets per request
WHYS = (
    "untagged",
    "machine_open",
    "scanner_click",
    "not_spam",
    "subscription_change",
    "ambiguous_recipient",
    "reject",
    "rendering_failure",
    "deliverydelay",
    "setup_notification",
)
OUTCOMES = {
    "malformed",
    "send_counted",
    "send_duplicate",
    "send_not_subscribed",
    "engaged",
    "engaged_stale",
    "complaint",
    "complaint_already",
    "unsubscribe_all",
    "unsubscribe_all_already",
    "hard_bounce",
    "hard_bounce_already",
    "soft_bounce",
    "soft_bounce_unknown",
    *(f"ignored_{why}" for why in WHYS),
}


def distinct(documents, parse=engagement.parse_ses_record) -> list:
    """One document per distinct parse result (the same facts, or the same reason to refuse):
    storage sees every kind of fact the mutations produce, without thousands of writes."""
    kept: dict[str, object] = {}
    for document in documents:
        try:
            key = repr(parse(document))
        except engagement.BadRecord as error:
            key = f"BadRecord: {error}"
        kept.setdefault(key, document)
    return list(kept.values())


@pytest.fixture
def recipient(aws, settings):
    lists.create_list("newsletter", "Newsletter")
    sid = subscriber_id_for(settings.subscriber_id_key, "recipient@example.com")
    join(sid, "recipient@example.com", "newsletter", AuditContext("api"), datetime(2026, 1, 1, tzinfo=UTC))
    return sid


@pytest.mark.parametrize("name", RECORD_TYPES)
def test_every_mutated_record_goes_through_ingest_with_a_documented_outcome(name, recipient):
    batch = distinct(mutated for _, _, mutated in mutations(record(name, recipient)))
    outcomes = engagement.ingest(batch, now=datetime(2026, 11, 22, tzinfo=UTC))
    assert set(outcomes) <= OUTCOMES and sum(outcomes.values()) >= len(batch) and outcomes["malformed"] > 0


def test_every_mutated_published_example_goes_through_ingest(recipient):
    for path in sorted((FIXTURES / "aws").rglob("*.json")):
        document = json.loads(path.read_text())
        outcomes = engagement.ingest(distinct(mutated for _, _, mutated in mutations(document)))
        assert set(outcomes) <= OUTCOMES, path


def test_the_sns_and_eventbridge_handlers_never_fail_on_a_bad_record(recipient):
    with Client(app) as client:
        for name in ("click", "complaint", "subscription"):
            for mutated in distinct(mutated for _, _, mutated in mutations(record(name, recipient))):
                client.lambda_.invoke(
                    "ses_event_from_sns", client.events.generate_sns_event(message=json.dumps(mutated))
                )
                envelope = json.loads((FIXTURES / "eventbridge_envelope.json").read_text())
                envelope["detail"] = mutated
                client.lambda_.invoke("ses_event_from_eventbridge", envelope)
        for text in ("{not json", "[" * 100_000 + "]" * 100_000, "1" * 10_000):
            client.lambda_.invoke("ses_event_from_sns", client.events.generate_sns_event(message=text))


def test_a_storage_failure_still_fails_the_invocation_so_aws_retries(recipient, monkeypatch):
    from chalicelib.storage import subscribers

    def throttled(*args, **kwargs):
        raise RuntimeError("throttled")

    monkeypatch.setattr(subscribers, "record_engagement", throttled)
    with Client(app) as client, pytest.raises(RuntimeError):
        client.lambda_.invoke(
            "ses_event_from_sns", client.events.generate_sns_event(message=json.dumps(record("click", recipient)))
        )


def signed(body: bytes) -> dict:
    at = int(time.time())
    signature = "sha256=" + hmac.new(SECRET.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Offboard-Timestamp": str(at), "X-Offboard-Signature": signature}


def test_the_signed_webhook_never_answers_5xx(recipient):
    answers = []
    with Client(app) as client:

        def post(payload) -> int:
            body = json.dumps(payload).encode()
            response = client.http.post("/v1/engagement", headers=signed(body), body=body)
            answers.append((response.status_code, payload if len(body) < 300 else body[:100]))
            return response.status_code

        for event in WEBHOOK_EVENTS:
            for _, _, lone in mutations(event):
                post({"events": [lone]})
            # A batch mixing a good event with malformed ones: 202, each counted, the good one applied.
            mixed = [event, *distinct((m for _, _, m in mutations(event)), engagement.parse_webhook_event)]
            mixed = [m for m in mixed if len(json.dumps(m)) < 1000][: engagement.MAX_WEBHOOK_EVENTS]
            assert post({"events": mixed}) == 202
        for value in WRONG:
            post({"events": value})
            post({"events": [value]})
            post(value)
    assert [answer for answer in answers if answer[0] >= 500] == []
    assert {status for status, _ in answers} <= {202, 400, 413}
