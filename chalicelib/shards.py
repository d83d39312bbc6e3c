"""Spreading one subscriber's writes: a stable shard per subscriber id."""

import zlib

SHARDS = 16


def shard_of(subscriber_id: str) -> int:
    return zlib.crc32(subscriber_id.encode()) % SHARDS
