"""The database seam: a transaction that yields a cursor, the same on SQLite and PostgreSQL.

Stores write portable SQL with ``?`` placeholders and integer microsecond timestamps; each
backend confines its dialect here: paramstyle, connection handling (a pool on PostgreSQL, one
connection per thread on SQLite), and ``serialize`` — a named exclusive section that one writer
at a time holds until commit, across every process and replica (the audit chain needs it):
``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from broker.storage.url import DatabaseUrl, database_url

__all__ = ["Cursor", "Database", "open_database"]


class Cursor(Protocol):
    """The part of a DB-API cursor the stores use."""

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement with ``?`` placeholders."""
        ...

    def fetchone(self) -> tuple[Any, ...] | None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...


class Database(Protocol):
    """One database shared by every store in a process.

    Raises (every method):
        ConfigError: the database cannot be reached or opened (message without password).
    """

    dialect: str

    @property
    def where(self) -> str:
        """How messages name it: the SQLite file's path, or the PostgreSQL URL without its
        password."""
        ...

    def transaction(
        self,
        *,
        serialize: str | None = None,
        read_only: bool = False,
        leaves_cached_state: bool = False,
    ) -> AbstractContextManager[Cursor]:
        """A transaction committed on normal exit and rolled back on an exception.

        Args:
            serialize: a section name; holders of the same name run one at a time.
            leaves_cached_state: the transaction writes nothing a ``StateCache`` keeps (only
                the audit chain or one-time values), so it does not move ``state_version``.
                Every other write transaction moves it: a new writer is covered by default.
            read_only: the transaction only reads: it takes no write lock, and each statement
                reads its own snapshot (SQLite and PostgreSQL alike), so a read that needs
                two statements to agree must not use it.
        """
        ...

    def state_version(self) -> object:
        """A value that changes whenever a write transaction not marked ``leaves_cached_state``
        commits, anywhere; None when no such value can be had cheaply (PostgreSQL) or a writer
        is mid-way: then nothing may be served from a cache (``broker.storage.state_cache``)."""
        ...

    def now(self) -> datetime:
        """The database's clock: the one clock every replica's revocation cutoffs and issue
        times are compared on (``broker.storage.clock_skew``)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def open_database(
    url: str | DatabaseUrl, *, pool_size: int = 8, durable_commits: bool = True
) -> Database:
    """Open the database ``url`` names (``durable_commits``: ``SqliteDatabase``'s)."""
    chosen = url if isinstance(url, DatabaseUrl) else database_url(url)
    if chosen.dialect == "postgresql":
        from broker.storage.postgres_db import PostgresDatabase

        return PostgresDatabase(chosen, pool_size=pool_size)
    from broker.storage.sqlite_db import SqliteDatabase

    return SqliteDatabase(chosen, durable_commits=durable_commits)
