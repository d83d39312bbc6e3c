"""The sunset job's queue (SQS): one message per shard and phase, plus continuations."""

from __future__ import annotations

import json
import os
from functools import lru_cache

from chalicelib.settings import ConfigurationError, get_settings


@lru_cache(maxsize=1)
def _sqs():
    import boto3

    return boto3.client("sqs", endpoint_url=os.environ.get("SQS_ENDPOINT") or None, region_name=get_settings().region)


def enqueue(messages: list[dict]) -> None:
    url = os.environ.get("SUNSET_QUEUE_URL")
    if not url:
        raise ConfigurationError("SUNSET_QUEUE_URL is not set")
    for start in range(0, len(messages), 10):  # SendMessageBatch takes ten at a time
        batch = messages[start : start + 10]
        entries = [{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(batch)]
        failed = _sqs().send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"{len(failed)} sunset messages were not queued")
