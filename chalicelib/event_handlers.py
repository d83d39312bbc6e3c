"""What the service does on events that are not HTTP requests: SES records, the daily
schedule and the sunset queue. Each imports what it needs when it runs, so HTTP requests
(which share the package) do not pay for them at cold start."""

from __future__ import annotations

import json

from chalicelib.observability import flush, logger


def ses_record_from_sns(event) -> None:
    from chalicelib import engagement

    try:
        engagement.ingest([event.message], parse=lambda m: engagement.parse_ses_record(engagement.parse_sns_message(m)))
    finally:
        flush()


def ses_record_from_eventbridge(event) -> None:
    from chalicelib import engagement

    try:
        engagement.ingest([event.detail])
    finally:
        flush()


def plan_sunset_run(event) -> None:
    from chalicelib import sunset_job
    from chalicelib.sunset_queue import enqueue

    try:
        sunset_job.plan_run(enqueue)
    finally:
        flush()


def sunset_worker(event) -> None:
    from chalicelib import sunset_job
    from chalicelib.sunset_email import send_reminder
    from chalicelib.sunset_queue import enqueue

    try:
        for record in event:
            try:
                message = json.loads(record.body)
            except ValueError:
                logger.warning("unreadable sunset message dropped")
                continue
            sunset_job.work(message, enqueue, event.context.get_remaining_time_in_millis, send_reminder)
    finally:
        flush()


def deferred_unsubscribe_worker(event) -> None:
    """Failures raise: SQS retries the message and, after its limit, keeps it in the DLQ."""
    from chalicelib import deferred_unsubscribes

    try:
        for record in event:
            deferred_unsubscribes.apply(json.loads(record.body))
    finally:
        flush()
