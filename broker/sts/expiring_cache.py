"""A small bounded map of things verified once, each kept until it expires.

Shared by the session-token and ID-token verification caches. Keys are SHA-256 digests of the
exact bytes that were verified, so a hit means "these very bytes passed every check before".
Only successes are stored; the callers re-check expiry (and their own bindings) on every hit.
When full, expired entries go first, then the oldest.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

__all__ = ["ExpiringCache"]

V = TypeVar("V")


class ExpiringCache(Generic[V]):
    """``digest -> value`` for at most ``capacity`` entries, each with an expiry (epoch s)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._entries: dict[bytes, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, digest: bytes) -> V | None:
        with self._lock:
            entry = self._entries.get(digest)
        return None if entry is None else entry[1]

    def put(self, digest: bytes, value: V, expires: float, now: float) -> None:
        with self._lock:
            if digest not in self._entries and len(self._entries) >= self.capacity:
                for old in [d for d, (until, _v) in self._entries.items() if until <= now]:
                    del self._entries[old]
                while len(self._entries) >= self.capacity:
                    del self._entries[next(iter(self._entries))]  # the oldest (insertion order)
            self._entries[digest] = (expires, value)

    def __len__(self) -> int:
        return len(self._entries)
