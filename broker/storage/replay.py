"""The replay cache in the shared database: a one-time value is accepted by one replica, once.

Implements ``providers.base.ReplayCache``. The primary key does the work: two replicas inserting
the same assertion id at once both reach the unique index, and exactly one insert counts. An
expired row is removed first so a value may be reused after its expiry, as the seam says.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from broker.storage.clock import micros
from broker.storage.database import Database

__all__ = ["SqlReplayCache"]


class SqlReplayCache:
    """``ReplayCache`` over a ``Database`` (SQLite or PostgreSQL)."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._db = database
        self._clock = clock

    def add_once(self, namespace: str, value: str, expires_at: datetime) -> bool:
        """Record ``value``; False if it is already recorded and has not expired."""
        now = micros(self._clock())
        with self._db.transaction(leaves_cached_state=True) as cursor:
            cursor.execute("DELETE FROM replay_cache WHERE expires_us <= ?", (now,))
            cursor.execute(
                "INSERT INTO replay_cache (namespace, value, expires_us) VALUES (?, ?, ?) "
                "ON CONFLICT (namespace, value) DO NOTHING",
                (namespace, value, micros(expires_at)),
            )
            return cursor.rowcount == 1
