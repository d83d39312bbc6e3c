"""Every boto3 client the service uses, built from one botocore Config.

Timeouts fit inside API Gateway's 29 s limit with room for retries (botocore's standard mode:
throttling and transient errors retried with backoff). boto3 is imported on first use, so a
route that needs no client does not pay for it at cold start. DynamoDB goes through PynamoDB,
configured the same way in `storage.connection`.
"""

from __future__ import annotations

from functools import lru_cache

from chalicelib.core.settings import client_read_timeout, get_settings

CONNECT_TIMEOUT_SECONDS = 1
READ_TIMEOUT_SECONDS = client_read_timeout()  # 3 s unless a test shortens it
MAX_ATTEMPTS = 3


@lru_cache(maxsize=1)
def client_config():
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    )


def _client(service: str, endpoint: str | None):
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=get_settings().region, config=client_config())


@lru_cache(maxsize=1)
def sqs():
    return _client("sqs", get_settings().sqs_endpoint)


@lru_cache(maxsize=1)
def ses():
    """SES v2 (`SendEmail` with simple or raw content)."""
    return _client("sesv2", get_settings().ses_endpoint)


def forget_clients() -> None:
    """Clients bind their endpoint when built; tests that move endpoints start clean."""
    sqs.cache_clear()
    ses.cache_clear()


def send_messages(queue_url: str, messages: list[dict]) -> None:
    """Queue JSON messages (SendMessageBatch, ten at a time); raises when any is not queued."""
    import json

    for start in range(0, len(messages), 10):
        batch = messages[start : start + 10]
        entries = [{"Id": str(i), "MessageBody": json.dumps(m, default=str)} for i, m in enumerate(batch)]
        failed = sqs().send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"{len(failed)} messages were not queued")
