"""The directory's runtime state (MFA devices and their last TOTP step, JIT users) behind a seam.

Embedded, it lives in the directory's own SQLite file beside the configuration tables
(``EmbeddedRuntime``, carried across rebuilds). With ``BROKER_DATABASE_URL`` set, replicas share
it in the database (``broker.storage.directory_runtime.SqlDirectoryRuntime``), so a TOTP step
used through one replica is refused by every other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = ["EmbeddedRuntime", "RuntimeState", "shared_runtime"]

Rows = Callable[[str, Iterable[Any]], list[tuple[Any, ...]]]
Write = Callable[[str, Iterable[Any]], int]


class RuntimeState(Protocol):
    """What the directory changes at run time. No secrets (TOTP seeds are in the keyring)."""

    def mfa_devices(self, user: str) -> list[str]:
        """The user's MFA device names."""
        ...

    def add_mfa_device(self, user: str, device: str) -> None:
        """Register ``device`` (again: its last step is forgotten)."""
        ...

    def mfa_last_step(self, user: str, device: str) -> int | None:
        """The last TOTP time step accepted for ``device``."""
        ...

    def set_mfa_last_step(self, user: str, device: str, step: int) -> bool:
        """Record ``step`` as used; False if it (or a later one) already was (atomic)."""
        ...

    def remove_mfa_device(self, user: str, device: str) -> None: ...

    def record_jit_user(self, provider: str, subject: str, name: str, email: str) -> bool:
        """Remember a just-in-time user; False if already known."""
        ...

    def close(self) -> None:
        """Release what the state holds (the directory closes it with itself)."""
        ...


class EmbeddedRuntime:
    """Runtime state in the directory's own SQLite database."""

    def __init__(self, rows: Rows, write: Write) -> None:
        self._rows = rows
        self._write = write

    def mfa_devices(self, user: str) -> list[str]:
        rows = self._rows("SELECT device FROM mfa_devices WHERE user_name = ?", (user,))
        return [r[0] for r in rows]

    def add_mfa_device(self, user: str, device: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO mfa_devices VALUES (?, ?, 'totp', ?, NULL)",
            (user, device, datetime.now(UTC).isoformat()),
        )

    def mfa_last_step(self, user: str, device: str) -> int | None:
        rows = self._rows(
            "SELECT last_step FROM mfa_devices WHERE user_name = ? AND device = ?", (user, device)
        )
        return rows[0][0] if rows else None

    def set_mfa_last_step(self, user: str, device: str, step: int) -> bool:
        changed = self._write(
            "UPDATE mfa_devices SET last_step = ? WHERE user_name = ? AND device = ? "
            "AND (last_step IS NULL OR last_step < ?)",
            (step, user, device, step),
        )
        return changed == 1

    def remove_mfa_device(self, user: str, device: str) -> None:
        self._write("DELETE FROM mfa_devices WHERE user_name = ? AND device = ?", (user, device))

    def record_jit_user(self, provider: str, subject: str, name: str, email: str) -> bool:
        changed = self._write(
            "INSERT OR IGNORE INTO jit_users VALUES (?, ?, ?, ?, ?)",
            (provider, subject, name, email, datetime.now(UTC).isoformat()),
        )
        return changed == 1

    def close(self) -> None:
        return  # the directory's own connection is closed by the directory


def shared_runtime() -> RuntimeState | None:
    """The configured database's runtime state (replicas), else ``None`` (the embedded one).

    Raises:
        ConfigError: the database is unreachable or its schema is not current.
    """
    from broker.config.loader import configured_database_url

    configured = configured_database_url()
    if configured is None:
        return None
    from broker.storage.database import open_database
    from broker.storage.directory_runtime import SqlDirectoryRuntime
    from broker.storage.migrations import require_current

    database = open_database(configured)
    require_current(database)
    return SqlDirectoryRuntime(database)
