"""SES event-publishing records as SES sends them (moto emits none of Open/Click: these are
written from the documented shapes), with the subscriber id filled in."""

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "ses"
RECORD_TYPES = (
    "send",
    "delivery",
    "open_human",
    "open_apple_mpp",
    "click",
    "click_scanner",
    "bounce_permanent",
    "bounce_transient",
    "complaint",
    "reject",
    "rendering_failure",
    "delivery_delay",
    "subscription",
)


def record(name: str, subscriber_id: str, **mail_overrides) -> dict:
    data = json.loads((FIXTURES / f"{name}.json").read_text().replace("{{SUBSCRIBER_ID}}", subscriber_id))
    data["mail"].update(mail_overrides)
    return data


def sns_message(name: str, subscriber_id: str) -> str:
    """The SNS notification's `Message`: the record as a JSON string."""
    return json.dumps(record(name, subscriber_id))


def eventbridge_event(name: str, subscriber_id: str) -> dict:
    envelope = json.loads((FIXTURES / "eventbridge_envelope.json").read_text())
    envelope["detail"] = record(name, subscriber_id)
    return envelope
