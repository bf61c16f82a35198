"""The directory's runtime state in the shared database: MFA devices and JIT users.

The same operations as the directory's embedded runtime tables, so replicas agree: a TOTP step
used through one replica is refused by all (``set_mfa_last_step`` is one conditional UPDATE, atomic
on both backends), and a just-in-time user is recorded once whichever replica sees them first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from broker.storage.clock import micros
from broker.storage.corrupt_rows import ROW_ERRORS, corrupt_row
from broker.storage.database import Database

__all__ = ["SqlDirectoryRuntime"]


class SqlDirectoryRuntime:
    """MFA devices and JIT users over a ``Database``."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._db = database
        self._clock = clock

    def add_mfa_device(self, user: str, device: str, kind: str = "totp") -> None:
        """Register (or re-register, forgetting its last step) ``device`` for ``user``."""
        with self._db.transaction() as cursor:
            cursor.execute(
                "DELETE FROM mfa_devices WHERE user_name = ? AND device = ?", (user, device)
            )
            cursor.execute(
                "INSERT INTO mfa_devices (user_name, device, kind, created_us, last_step) "
                "VALUES (?, ?, ?, ?, NULL)",
                (user, device, kind, micros(self._clock())),
            )

    def mfa_devices(self, user: str) -> list[str]:
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT device FROM mfa_devices WHERE user_name = ? ORDER BY device", (user,)
            )
            return [str(row[0]) for row in cursor.fetchall()]

    def set_mfa_last_step(self, user: str, device: str, step: int) -> bool:
        """Record TOTP ``step`` as used; False if it (or a later one) already was."""
        with self._db.transaction() as cursor:
            cursor.execute(
                "UPDATE mfa_devices SET last_step = ? WHERE user_name = ? AND device = ? "
                "AND (last_step IS NULL OR last_step < ?)",
                (step, user, device, step),
            )
            return cursor.rowcount == 1

    def mfa_last_step(self, user: str, device: str) -> int | None:
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT last_step FROM mfa_devices WHERE user_name = ? AND device = ?",
                (user, device),
            )
            row = cursor.fetchone()
        try:
            return None if row is None or row[0] is None else int(row[0])
        except ROW_ERRORS:
            raise corrupt_row(self._db, "mfa_devices", "last_step") from None

    def remove_mfa_device(self, user: str, device: str) -> None:
        with self._db.transaction() as cursor:
            cursor.execute(
                "DELETE FROM mfa_devices WHERE user_name = ? AND device = ?", (user, device)
            )

    def record_jit_user(self, provider: str, subject: str, name: str, email: str) -> bool:
        """Remember a just-in-time user; False if already known."""
        with self._db.transaction() as cursor:
            cursor.execute(
                "INSERT INTO jit_users (provider, subject, name, email, first_seen_us) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (provider, subject) DO NOTHING",
                (provider, subject, name, email, micros(self._clock())),
            )
            return cursor.rowcount == 1

    def close(self) -> None:
        """Close the database this state was opened on."""
        self._db.close()
