"""Reading an engagement record's timestamps, and the error a record that cannot be read raises:
shared by the hand-read SES records (engagement) and the webhook's models (contracts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Timestamps outside these bounds are malformed: far-future engagement would hold the sunset clock
# forever (and overflow date arithmetic), and nothing we sent predates 2000.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
MAX_WEBHOOK_EVENTS = 100  # events in one webhook call


class BadRecord(ValueError):
    """A record this service cannot read; the message never holds the record's values."""


def parse_time(value: str, what: str) -> datetime:
    """An ISO 8601 timestamp in UTC, within the bounds an engagement fact can have."""
    if not 0 < len(value) <= 40:
        raise BadRecord(f"{what} is not an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise BadRecord(f"{what} is not an ISO 8601 timestamp") from error
    if not EARLIEST <= parsed <= datetime.now(UTC) + FUTURE_TOLERANCE:
        raise BadRecord(f"{what} is out of range")
    return parsed
