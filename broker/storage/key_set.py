"""The session-token key set in the shared database, so every replica signs and verifies alike.

Rows hold each key's ``kid``, creation and retirement times, and its material as the key
module serialises it (JSON text: private and public key, derivation secret); ring-wide secrets
(the user-key derivation secret) sit beside them, created once by the first replica. The material is
secret: the database is then as sensitive as the key file it replaces (restrict its users,
require TLS). Rotation inserts a key and retires the previous one in one transaction under the
``keys`` section, so two replicas rotating at once leave exactly one active key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from broker.storage.clock import from_micros, micros
from broker.storage.corrupt_rows import ROW_ERRORS, corrupt_row
from broker.storage.database import Database

__all__ = ["SqlKeySet", "StoredKey"]


@dataclass(frozen=True)
class StoredKey:
    kid: str
    created: datetime
    retired: datetime | None
    material: str = field(repr=False)


class SqlKeySet:
    """Signing keys over a ``Database``."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._db = database
        self._clock = clock

    @property
    def database(self) -> Database:
        """The database the keys are in (named by errors about its rows)."""
        return self._db

    def keys(self) -> tuple[StoredKey, ...]:
        """Every key, oldest first."""
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT kid, created_us, retired_us, material FROM signing_keys ORDER BY created_us"
            )
            found = cursor.fetchall()
        try:
            return tuple(
                StoredKey(
                    str(kid),
                    from_micros(created),
                    from_micros(retired) if retired else None,
                    _text(material),
                )
                for kid, created, retired, material in found
            )
        except ROW_ERRORS:
            column = "created_us, retired_us or material"
            raise corrupt_row(self._db, "signing_keys", column) from None

    def stamp(self) -> tuple[int, int, int]:
        """Changes whenever a key is added, retired or dropped: (count, newest creation, newest
        retirement) — one small read, to tell whether the ring must be read again."""
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT COUNT(*), COALESCE(MAX(created_us), 0), COALESCE(MAX(retired_us), 0) "
                "FROM signing_keys"
            )
            rows = cursor.fetchall()  # to the end: no statement left open on the connection
        try:
            return (int(rows[0][0]), int(rows[0][1]), int(rows[0][2])) if rows else (0, 0, 0)
        except ROW_ERRORS:
            raise corrupt_row(self._db, "signing_keys", "created_us or retired_us") from None

    def rotate(
        self,
        kid: str,
        material: str,
        *,
        only_if_none: bool = False,
        now: datetime | None = None,
    ) -> bool:
        """Add ``kid`` as the active key and retire the others; False if skipped.

        Args:
            only_if_none: add only when there is no active key yet (first start of several
                replicas: one creates the key, the others use it).
            now: the rotation's time (default: the store's clock).
        """
        at = micros(now or self._clock())
        with self._db.transaction(serialize="keys") as cursor:
            if only_if_none:
                cursor.execute("SELECT 1 FROM signing_keys WHERE retired_us IS NULL LIMIT 1")
                if cursor.fetchone() is not None:
                    return False
            cursor.execute("UPDATE signing_keys SET retired_us = ? WHERE retired_us IS NULL", (at,))
            cursor.execute(
                "INSERT INTO signing_keys (kid, created_us, retired_us, material) "
                "VALUES (?, ?, NULL, ?)",
                (kid, at, material),
            )
        return True

    def prune(self, retired_before: datetime) -> int:
        """Drop keys retired before ``retired_before``; the count dropped."""
        with self._db.transaction(serialize="keys") as cursor:
            cursor.execute(
                "DELETE FROM signing_keys WHERE retired_us IS NOT NULL AND retired_us < ?",
                (micros(retired_before),),
            )
            return max(cursor.rowcount, 0)

    def secret(self, name: str, create: Callable[[], str]) -> str:
        """The ring secret ``name``, created with ``create()`` by the first replica to ask."""
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute("SELECT material FROM key_ring_secrets WHERE name = ?", (name,))
            row = cursor.fetchone()
        if row is not None:
            return str(row[0])
        with self._db.transaction(serialize="keys") as cursor:
            cursor.execute("SELECT material FROM key_ring_secrets WHERE name = ?", (name,))
            row = cursor.fetchone()
            if row is not None:
                return str(row[0])
            material = create()
            cursor.execute(
                "INSERT INTO key_ring_secrets (name, material, created_us) VALUES (?, ?, ?)",
                (name, material, micros(self._clock())),
            )
            return material


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value
