"""Values read from the state database, kept in the process while the database says nothing
they were read from has changed (``Database.state_version``).

A revocation or an access-key change written by any process is honoured on the very next
lookup: the writer moves the version before it commits, and a value is only served while the
version is the one it was loaded under. Where the database cannot tell (PostgreSQL, shared by
replicas; a writer mid-way), every lookup reads the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from broker.storage.database import Database

__all__ = ["StateCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class StateCache(Generic[K, V]):
    """Lookups by key over one ``Database``, each loaded at most once per state version."""

    def __init__(self, database: Database, *, max_entries: int = 4096) -> None:
        self._db = database
        self._max = max_entries
        self._lock = threading.Lock()
        self._version: object = None
        self._entries: dict[K, V] = {}

    def get(self, key: K, load: Callable[[], V], *, version: object = None) -> V:
        """The value for ``key``: kept, or ``load()`` read now (and kept if no writer of cached
        state overlapped the read). ``version``: the caller's ``state_version()`` read just
        now, when it already has one (saves reading it again)."""
        before = self._db.state_version() if version is None else version
        if before is None:
            return load()
        with self._lock:
            if self._version == before and key in self._entries:
                return self._entries[key]
        value = load()
        if self._db.state_version() != before:
            return value  # a writer overlapped the read: use it this once, keep nothing
        with self._lock:
            if self._version != before:
                self._version, self._entries = before, {}
            if len(self._entries) < self._max:
                self._entries[key] = value
        return value
