"""``providers.base.ReplayCache`` on SQLite under the data directory, safe across processes.

SQLite's own locking (``BEGIN IMMEDIATE``) makes "insert unless present and unexpired" atomic
between every broker process on the machine; expired rows are dropped as we go.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from broker.errors import StoreError
from broker.private_files import PrivateFiles

__all__ = ["SqliteReplayCache"]

_files = PrivateFiles(StoreError)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (
    namespace TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (namespace, value)
)
"""


class SqliteReplayCache:
    """One-time values (SAML assertion ids, request ids) in ``<data>/replay.sqlite3`` (0600)."""

    def __init__(self, data_dir: Path) -> None:
        _files.ensure_dir(data_dir)
        self.path = data_dir / "replay.sqlite3"
        if not _files.exists(self.path):
            import os

            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))

    def add_once(self, namespace: str, value: str, expires_at: datetime) -> bool:
        """Record ``value``; False if it was already recorded and has not expired."""
        now = datetime.now(UTC).timestamp()
        try:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the replay cache {self.path}: {exc}") from None
        try:
            connection.execute(_SCHEMA)
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("DELETE FROM seen WHERE expires_at <= ?", (now,))
            cursor = connection.execute(
                "INSERT OR IGNORE INTO seen (namespace, value, expires_at) VALUES (?, ?, ?)",
                (namespace, value, expires_at.timestamp()),
            )
            connection.execute("COMMIT")
            return cursor.rowcount == 1
        except sqlite3.Error as exc:
            raise StoreError(f"the replay cache {self.path} failed: {exc}") from None
        finally:
            connection.close()
