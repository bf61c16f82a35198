"""Directory snapshots in the shared database, one row per configuration fingerprint.

A snapshot is written by one ``INSERT`` (its whole row set is one document), so a reader sees
all of one snapshot or none of it on both backends. Two replicas storing the same fingerprint
at once both reach the primary key and one row stays; a snapshot is never updated in place.
Only the ``KEEP`` newest are kept: a replica whose snapshot was pruned rebuilds it from its
files on its next load. An administrator lists them (``stored``) and drops one or several
(``drop``) with ``broker directory snapshots``; a dropped snapshot is rebuilt the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from broker.storage.clock import from_micros, micros
from broker.storage.corrupt_rows import ROW_ERRORS, corrupt_row
from broker.storage.database import Database

__all__ = ["KEEP", "SqlDirectorySnapshots", "StoredSnapshot"]

KEEP = 4
"""Snapshots kept: enough for a rolling deploy of a few configurations at once."""


@dataclass(frozen=True)
class StoredSnapshot:
    """One row as stored; ``content`` is not checked here (``broker.directory`` reads it)."""

    fingerprint: str
    schema_version: str
    built: datetime
    config_dir: str
    content: str


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

    def stored(self) -> list[StoredSnapshot]:
        """Every stored snapshot, newest first.

        Raises:
            ConfigError: a row's ``built_us`` is not a number (changed outside the broker).
        """
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT fingerprint, schema_version, built_us, config_dir, content "
                "FROM directory_snapshots ORDER BY built_us DESC, fingerprint, schema_version"
            )
            rows = cursor.fetchall()
        found = []
        for fingerprint, schema_version, built_us, config_dir, content in rows:
            try:
                built = from_micros(int(built_us))
            except (*ROW_ERRORS, OverflowError, OSError):
                raise corrupt_row(self._db, "directory_snapshots", "built_us") from None
            found.append(
                StoredSnapshot(
                    str(fingerprint), str(schema_version), built, str(config_dir), str(content)
                )
            )
        return found

    def keys(self) -> list[tuple[str, str]]:
        """(fingerprint, schema_version) of every stored snapshot, without reading the rest of
        the row: a row damaged anywhere else can still be named and dropped."""
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT fingerprint, schema_version FROM directory_snapshots "
                "ORDER BY fingerprint, schema_version"
            )
            return [(str(fp), str(version)) for fp, version in cursor.fetchall()]

    def drop(self, keys: Iterable[tuple[str, str]]) -> int:
        """Delete the snapshots ``keys`` name ((fingerprint, schema_version)) in one write
        transaction; the number of rows deleted (one another process deleted first, or never
        stored, is not counted)."""
        dropped = 0
        with self._db.transaction() as cursor:
            for fingerprint, schema_version in keys:
                cursor.execute(
                    "DELETE FROM directory_snapshots WHERE fingerprint = ? AND schema_version = ?",
                    (fingerprint, schema_version),
                )
                dropped += max(cursor.rowcount, 0)
        return dropped
