"""A per-container sliding window that sheds request floods before they reach DynamoDB.

It is approximate across Lambda containers by design; the limit that protects the budget is
the per-IP counter written in the same transaction as every issued code."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque


class SlidingWindow:
    def __init__(self, limit: int = 1, seconds: float = 60.0, max_keys: int = 50_000):
        self.limit, self.seconds, self.max_keys = limit, seconds, max_keys
        self._hits: OrderedDict[str, deque] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None, limit: int | None = None) -> bool:
        """`limit` (when given) replaces the window's own: settings can change between calls."""
        now = time.monotonic() if now is None else now
        limit = self.limit if limit is None else limit
        with self._lock:
            hits = self._hits.pop(key, None) or deque()
            while hits and hits[0] <= now - self.seconds:
                hits.popleft()
            allowed = len(hits) < limit
            if allowed:
                hits.append(now)
            self._hits[key] = hits
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return allowed

    def clear(self) -> None:
        with self._lock:
            self._hits.clear()
