"""Messages as AWS delivers them through the two other doors an opt-out comes through: an SES
receipt rule's SNS action (`tests/fixtures/ses_receiving/received.json`, written from the
documented example, "Examples of notifications for Amazon SES email receiving") and End User
Messaging SMS two-way messaging (`tests/fixtures/sms/inbound.json`)."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MAILBOX = "unsubscribe@mail.offboard.test"


def _filled(value, values: dict):
    if isinstance(value, str):
        for name, text in values.items():
            value = value.replace("{{" + name + "}}", text)
        return value
    if isinstance(value, list):
        return [_filled(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v, values) for k, v in value.items()}
    return value


def received(
    recipient: str,
    sender: str = "alice@example.com",
    envelope: str | None = None,
    subject: str = "unsubscribe",
    dkim_domain: str | None = None,
    **verdicts: str,
) -> dict:
    """A Received notification for a mail from `sender` (the From header) to `recipient`;
    `verdicts` override receipt statuses, e.g. spf="FAIL", virus="FAIL"."""
    from_domain = sender.rpartition("@")[2].strip(">")
    data = _filled(
        json.loads((FIXTURES / "ses_receiving" / "received.json").read_text()),
        {
            "RECIPIENT": recipient,
            "FROM": sender,
            "ENVELOPE": envelope if envelope is not None else sender.rpartition("<")[2].strip(">"),
            "SUBJECT": subject,
            "DKIM_DOMAIN": dkim_domain or from_domain,
        },
    )
    for name, status in verdicts.items():
        data["receipt"][f"{name}Verdict"] = {"status": status}
    return data


def inbound_sms(origin: str, body: str, keyword: str = "KEYWORD_123456789012") -> dict:
    data = _filled(json.loads((FIXTURES / "sms" / "inbound.json").read_text()), {"FROM": origin, "BODY": body})
    data["messageKeyword"] = keyword
    return data


def sns_event(client, message: dict | str, timestamp: str | None = None) -> dict:
    event = client.events.generate_sns_event(message=message if isinstance(message, str) else json.dumps(message))
    if timestamp:
        event["Records"][0]["Sns"]["Timestamp"] = timestamp
    return event
