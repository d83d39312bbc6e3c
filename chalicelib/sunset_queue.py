"""The sunset job's queue: one message per shard and phase, plus continuations."""

from __future__ import annotations

import os

from chalicelib.queues import send
from chalicelib.settings import ConfigurationError


def enqueue(messages: list[dict]) -> None:
    url = os.environ.get("SUNSET_QUEUE_URL")
    if not url:
        raise ConfigurationError("SUNSET_QUEUE_URL is not set")
    send(url, messages)
