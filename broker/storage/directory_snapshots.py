"""Directory snapshots in the shared database, one row per configuration fingerprint.

A snapshot is written by one ``INSERT`` (its whole row set is one document), so a reader sees
all of one snapshot or none of it on both backends. Two replicas storing the same fingerprint
at once both reach the primary key and one row stays; a snapshot is never updated in place.
Only the ``KEEP`` newest are kept: a replica whose snapshot was pruned rebuilds it from its
files on its next load.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from broker.storage.clock import micros
from broker.storage.database import Database

__all__ = ["KEEP", "SqlDirectorySnapshots"]

KEEP = 4
"""Snapshots kept: enough for a rolling deploy of a few configurations at once."""


class SqlDirectorySnapshots:
    """Stored snapshots over a ``Database`` (SQLite or PostgreSQL)."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._db = database
        self._clock = clock

    def content(self, fingerprint: str, schema_version: str) -> str | None:
        """The stored snapshot of ``fingerprint`` in layout ``schema_version``, if any."""
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT content FROM directory_snapshots "
                "WHERE fingerprint = ? AND schema_version = ?",
                (fingerprint, schema_version),
            )
            row = cursor.fetchone()
            return None if row is None else str(row[0])

    def has(self, fingerprint: str, schema_version: str) -> bool:
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT 1 FROM directory_snapshots WHERE fingerprint = ? AND schema_version = ?",
                (fingerprint, schema_version),
            )
            return cursor.fetchone() is not None

    def store(self, fingerprint: str, schema_version: str, config_dir: str, content: str) -> bool:
        """Add a snapshot (kept as it is if one of that fingerprint is already stored) and drop
        all but the ``KEEP`` newest; True if this call added it."""
        with self._db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO directory_snapshots "
                "(fingerprint, schema_version, built_us, config_dir, content) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (fingerprint, schema_version) DO NOTHING",
                (fingerprint, schema_version, micros(self._clock()), config_dir, content),
            )
            added = cursor.rowcount == 1
            cursor.execute(
                "DELETE FROM directory_snapshots WHERE built_us < (SELECT MIN(built_us) FROM "
                "(SELECT built_us FROM directory_snapshots ORDER BY built_us DESC LIMIT ?) "
                "AS newest)",
                (KEEP,),
            )
            return added

    def fingerprints(self) -> list[str]:
        """Stored fingerprints, newest first (``broker directory show``, tests)."""
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT fingerprint FROM directory_snapshots ORDER BY built_us DESC, fingerprint"
            )
            return [str(row[0]) for row in cursor.fetchall()]
