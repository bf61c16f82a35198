"""The replica backend: PostgreSQL through psycopg 3 and a connection pool.

Statements use the stores' ``?`` placeholders, rewritten to psycopg's ``%s``. A ``serialize``
section is a transaction-scoped advisory lock keyed by the section's name, so one writer at a
time holds it across every replica until its commit. The connection string (with its password)
is never shown: errors name the host and database only.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from broker.errors import ConfigError
from broker.storage.database import Cursor
from broker.storage.url import DatabaseUrl, redacted

__all__ = ["PostgresDatabase"]

# The pool logs each failed connection attempt; without a handler of the application's,
# Python's last-resort handler would print them on stderr beside our one-line error.
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class _Cursor:
    """psycopg's cursor with ``?`` placeholders."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    @property
    def rowcount(self) -> int:
        count: int = self._inner.rowcount
        return count

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._inner.execute(sql.replace("?", "%s"), tuple(params))

    def fetchone(self) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self._inner.fetchone()
        return row

    def fetchall(self) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = self._inner.fetchall()
        return found


class PostgresDatabase:
    """``Database`` on a PostgreSQL server."""

    dialect = "postgresql"

    def __init__(self, url: DatabaseUrl, *, pool_size: int = 8, timeout: float = 10.0) -> None:
        import psycopg
        import psycopg_pool

        self._where = redacted(url.url)
        self._url = url.url
        try:  # one direct attempt first: its error says why (refused, bad password, no db)
            psycopg.connect(url.url, connect_timeout=max(1, int(timeout))).close()
        except psycopg.Error as exc:
            reason = self._scrub(exc, url.url)
            raise ConfigError(
                f"cannot connect to the database {self._where}: {reason}; check "
                "BROKER_DATABASE_URL and that the server is up"
            ) from None
        self._pool = psycopg_pool.ConnectionPool(
            url.url,
            min_size=1,
            max_size=pool_size,
            timeout=timeout,
            open=False,
            kwargs={
                "connect_timeout": max(1, int(timeout)),
                "application_name": "access-broker",
                # Reads run as single statements (one round trip); writes open an explicit
                # transaction with ``connection.transaction()``.
                "autocommit": True,
            },
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except psycopg_pool.PoolTimeout:
            self._pool.close()
            raise ConfigError(
                f"cannot connect to the database {self._where} within {timeout:.0f} s; check "
                "BROKER_DATABASE_URL and that the server is up"
            ) from None

    @contextmanager
    def transaction(
        self, *, serialize: str | None = None, read_only: bool = False
    ) -> Iterator[Cursor]:
        import psycopg
        import psycopg_pool

        try:
            with self._pool.connection() as connection:
                if read_only and serialize is None:
                    with connection.cursor() as inner:
                        yield _Cursor(inner)
                    return
                with connection.transaction(), connection.cursor() as inner:
                    if serialize is not None:
                        inner.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(serialize),))
                    yield _Cursor(inner)
        except psycopg_pool.PoolTimeout:
            raise ConfigError(
                f"no database connection free within the timeout ({self._where}); retry"
            ) from None
        except psycopg.OperationalError as exc:
            raise ConfigError(
                f"database {self._where} failed: {self._scrub(exc, self._url)}"
            ) from None

    @staticmethod
    def _scrub(error: Exception, url: str) -> str:
        """The driver's message on one line, with the password removed should it appear."""
        from urllib.parse import unquote, urlsplit

        reason = " ".join(str(error).split())[:200]
        password = urlsplit(url).password
        for secret in filter(None, {password, unquote(password or "")}):
            reason = reason.replace(secret, "***")
        return reason

    def close(self) -> None:
        self._pool.close()
