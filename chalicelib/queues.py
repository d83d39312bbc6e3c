"""SQS, for work that must outlive a request: the sunset job's steps and unsubscribes that
could not be stored at once."""

from __future__ import annotations

import json
import os
from functools import lru_cache

from chalicelib.settings import get_settings


@lru_cache(maxsize=1)
def sqs():
    import boto3
    from botocore.config import Config

    return boto3.client(
        "sqs",
        endpoint_url=os.environ.get("SQS_ENDPOINT") or None,
        region_name=get_settings().region,
        config=Config(connect_timeout=1, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 3}),
    )


def send(queue_url: str, messages: list[dict]) -> None:
    for start in range(0, len(messages), 10):  # SendMessageBatch takes ten at a time
        batch = messages[start : start + 10]
        entries = [{"Id": str(i), "MessageBody": json.dumps(m, default=str)} for i, m in enumerate(batch)]
        failed = sqs().send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"{len(failed)} messages were not queued")
