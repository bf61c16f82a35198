"""Service users' virtual MFA devices in the shared database (migration 0005; no secrets).

A row says which serial is enabled for whom, the per-enrolment nonce its seed is derived with,
and the last TOTP step accepted. ``accept_step`` is one conditional UPDATE, atomic on both
backends, so two replicas handed the same code at once accept it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from broker.storage.clock import from_micros, micros
from broker.storage.corrupt_rows import ROW_ERRORS, corrupt_row
from broker.storage.database import Database

__all__ = ["SqlStsMfaDevices", "StsMfaDevice"]


@dataclass(frozen=True)
class StsMfaDevice:
    """One enabled device. ``seed_nonce`` is not secret (the seed also needs the ring's)."""

    serial: str
    user: str
    account: str
    seed_nonce: str
    created: datetime
    last_step: int | None = None


def _device(database: Database, row: tuple[Any, ...]) -> StsMfaDevice:
    serial, user, account, nonce, created, last = row
    try:
        when = from_micros(int(created))
    except ROW_ERRORS:
        raise corrupt_row(database, "sts_mfa_devices", "created_us") from None
    try:
        last_step = None if last is None else int(last)
    except ROW_ERRORS:
        raise corrupt_row(database, "sts_mfa_devices", "last_step") from None
    return StsMfaDevice(str(serial), str(user), str(account), str(nonce), when, last_step)


class SqlStsMfaDevices:
    """Virtual MFA devices over a ``Database``."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._db = database
        self._clock = clock

    def add(self, serial: str, user: str, account: str, seed_nonce: str) -> bool:
        """Enable ``serial``; False (nothing changed) if it already is."""
        return self.add_many([(serial, user, account, seed_nonce)]) == 1

    def add_many(self, devices: Iterable[tuple[str, str, str, str]]) -> int:
        """Enable each ``(serial, user, account, seed_nonce)`` not yet enabled, in one
        transaction; return how many were new."""
        added = 0
        created = micros(self._clock())
        with self._db.transaction() as cursor:
            for serial, user, account, nonce in devices:
                cursor.execute(
                    "INSERT INTO sts_mfa_devices "
                    "(serial, user_name, account, seed_nonce, created_us, last_step) "
                    "VALUES (?, ?, ?, ?, ?, NULL) "
                    "ON CONFLICT (serial) DO NOTHING",
                    (serial, user, account, nonce, created),
                )
                added += cursor.rowcount
        return added

    def get(self, serial: str) -> StsMfaDevice | None:
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT serial, user_name, account, seed_nonce, created_us, last_step "
                "FROM sts_mfa_devices WHERE serial = ?",
                (serial,),
            )
            row = cursor.fetchone()
            return _device(self._db, row) if row else None

    def for_user(self, user: str) -> list[StsMfaDevice]:
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT serial, user_name, account, seed_nonce, created_us, last_step "
                "FROM sts_mfa_devices WHERE user_name = ? ORDER BY serial",
                (user,),
            )
            return [_device(self._db, row) for row in cursor.fetchall()]

    def all(self) -> list[StsMfaDevice]:
        """Every enabled device (the credential report's ``mfa_active``), by serial."""
        with self._db.transaction(read_only=True) as cursor:
            cursor.execute(
                "SELECT serial, user_name, account, seed_nonce, created_us, last_step "
                "FROM sts_mfa_devices ORDER BY serial"
            )
            return [_device(self._db, row) for row in cursor.fetchall()]

    def accept_step(self, serial: str, step: int) -> bool:
        """Record TOTP ``step`` as used; False if it (or a later one) already was."""
        with self._db.transaction() as cursor:
            cursor.execute(
                "UPDATE sts_mfa_devices SET last_step = ? WHERE serial = ? "
                "AND (last_step IS NULL OR last_step < ?)",
                (step, serial, step),
            )
            return cursor.rowcount == 1

    def remove(self, serial: str) -> bool:
        with self._db.transaction() as cursor:
            cursor.execute("DELETE FROM sts_mfa_devices WHERE serial = ?", (serial,))
            return cursor.rowcount == 1

    def close(self) -> None:
        """Close the database this store was opened on."""
        self._db.close()
