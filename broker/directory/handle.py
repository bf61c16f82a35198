"""The snapshot handle every group of directory queries shares: reads of one in-memory copy."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from typing import Any

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
    """One snapshot's read-only in-memory database (thread-safe: one query at a time)."""

    def __init__(self, connection: sqlite3.Connection, source: Source) -> None:
        self.source = source
        self._lock = threading.Lock()
        self._conn = connection

    def close(self) -> None:
        self._conn.close()

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def _policy(self, name: str) -> dict[str, Any]:
        rows = self._rows("SELECT document FROM policies WHERE name = ?", (name,))
        doc: dict[str, Any] = json.loads(rows[0][0])
        return doc
