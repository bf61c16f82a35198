"""The database handle every group of directory queries shares: reads, locked writes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from broker.directory.database import exclusive_lock, open_database
from broker.directory.source import Source
from broker.directory.values import User

__all__ = ["DatabaseHandle", "held_by", "tags_of"]


def tags_of(text: str) -> dict[str, str]:
    tags: dict[str, str] = json.loads(text)
    return tags


def held_by(user: User, alias: str) -> tuple[str, list[Any]]:
    """SQL matching rows (``principal_type``, ``principal``) of ``user`` or one of its groups.

    A JIT user is not a directory user: it never matches a directory user's own rows, even if
    a user of that name exists.
    """
    where = f"(({alias}.principal_type = 'user' AND {alias}.principal = ? AND NOT ?)"
    if user.groups:
        marks = ",".join("?" * len(user.groups))
        where += f" OR ({alias}.principal_type = 'group' AND {alias}.principal IN ({marks}))"
    return where + ")", [user.name, user.jit, *user.groups]


class DatabaseHandle:
    """One open directory database (thread-safe)."""

    def __init__(self, path: Path, source: Source) -> None:
        self.path = path
        self.source = source
        self._lock = threading.Lock()
        self._conn = open_database(path)
        self._inode = path.stat().st_ino

    def close(self) -> None:
        self._conn.close()

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def _write(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Change runtime state under the rebuild lock, in the database that is current now.

        A rebuild copies runtime tables under the same lock, so no write is lost between its
        copy and its rename; a connection to a database replaced since is reopened first.
        """
        with self._lock, exclusive_lock(self.path.parent):
            if self.path.stat().st_ino != self._inode:
                self._conn.close()
                self._conn = open_database(self.path)
                self._inode = self.path.stat().st_ino
            return self._conn.execute(sql, tuple(params)).rowcount

    def _policy(self, name: str) -> dict[str, Any]:
        rows = self._rows("SELECT document FROM policies WHERE name = ?", (name,))
        doc: dict[str, Any] = json.loads(rows[0][0])
        return doc
