"""The replica backend: PostgreSQL through psycopg 3 and a connection pool.

Statements use the stores' ``?`` placeholders, rewritten to psycopg's ``%s``. A ``serialize``
section is a transaction-scoped advisory lock keyed by the section's name, so one writer at a
time holds it across every replica until its commit. The connection string (with its password)
is never shown: errors name the host and database only.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from broker.errors import ConfigError, StateStoreUnavailableError
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
    """``Database`` on a PostgreSQL server.

    Fail fast, recover at once. A request waits at most ``wait`` seconds for a pooled
    connection, then gets ``StateStoreUnavailableError``; a connection found broken marks the
    database down, and the caller gets ``StateStoreUnavailableError`` (the STS answers a retryable
    ``ServiceUnavailable``) instead of a request held for the pool's whole timeout. While
    down, each request first tries one direct connection (``connect_timeout`` 1 s; a stopped
    server refuses at once): the first that succeeds swaps in a fresh pool, so the first call
    after the server is back succeeds — psycopg_pool's own reconnect backs off 1, 2, 4, 8, 16 s.
    One such attempt runs at a time; the others are refused while it runs.
    """

    dialect = "postgresql"

    def __init__(
        self, url: DatabaseUrl, *, pool_size: int = 8, timeout: float = 10.0, wait: float = 1.0
    ) -> None:
        import psycopg

        self._where = redacted(url.url)
        self._url = url.url
        self._pool_size = pool_size
        self._timeout = timeout
        self._wait = wait
        self._down = False
        self._reviving = threading.Lock()
        try:  # one direct attempt first: its error says why (refused, bad password, no db)
            psycopg.connect(url.url, connect_timeout=max(1, int(timeout))).close()
        except psycopg.Error as exc:
            reason = self._scrub(exc, url.url)
            raise ConfigError(
                f"cannot connect to the database {self._where}: {reason}; check "
                "BROKER_DATABASE_URL and that the server is up"
            ) from None
        self._pool = self._open_pool(timeout)

    def _open_pool(self, timeout: float) -> Any:
        import psycopg_pool

        pool = psycopg_pool.ConnectionPool(
            self._url,
            min_size=1,
            max_size=self._pool_size,
            timeout=self._wait,
            open=False,
            kwargs={
                "connect_timeout": max(1, int(self._timeout)),
                "application_name": "access-broker",
                # Reads run as single statements (one round trip); writes open an explicit
                # transaction with ``connection.transaction()``.
                "autocommit": True,
            },
        )
        try:
            pool.open(wait=True, timeout=timeout)
        except psycopg_pool.PoolTimeout:
            pool.close()
            raise ConfigError(
                f"cannot connect to the database {self._where} within {timeout:.0f} s; check "
                "BROKER_DATABASE_URL and that the server is up"
            ) from None
        return pool

    def _unavailable(self, detail: str) -> StateStoreUnavailableError:
        """Mark the database down; the error's text names the database (host, port, name —
        never the password) for the operator's log and CLI; the STS does not show it."""
        self._down = True
        return StateStoreUnavailableError(f"database {self._where} is unavailable: {detail}")

    def _revive(self) -> None:
        """While down: one direct connection; when it works, a fresh pool replaces the old."""
        import psycopg

        if not self._reviving.acquire(blocking=False):
            raise StateStoreUnavailableError(
                f"database {self._where} is unavailable: reconnecting; retry"
            )
        try:
            if not self._down:
                return
            try:
                psycopg.connect(self._url, connect_timeout=1).close()
            except psycopg.Error as exc:
                raise StateStoreUnavailableError(
                    f"database {self._where} is unavailable: {self._scrub(exc, self._url)}"
                ) from None
            old, self._pool = self._pool, self._open_pool(max(self._wait, 1.0))
            self._down = False
            threading.Thread(target=old.close, kwargs={"timeout": 1.0}, daemon=True).start()
        except ConfigError as exc:
            if isinstance(exc, StateStoreUnavailableError):
                raise
            raise StateStoreUnavailableError(str(exc)) from None
        finally:
            self._reviving.release()

    @contextmanager
    def transaction(
        self,
        *,
        serialize: str | None = None,
        read_only: bool = False,
        leaves_cached_state: bool = False,
    ) -> Iterator[Cursor]:
        import psycopg
        import psycopg_pool

        if self._down:
            self._revive()
        pool = self._pool
        try:
            with pool.connection(timeout=self._wait) as connection:
                try:
                    if read_only and serialize is None:
                        with connection.cursor() as inner:
                            yield _Cursor(inner)
                        return
                    with connection.transaction(), connection.cursor() as inner:
                        if serialize is not None:
                            inner.execute(
                                "SELECT pg_advisory_xact_lock(%s)", (_lock_key(serialize),)
                            )
                        yield _Cursor(inner)
                except psycopg.OperationalError as exc:
                    if connection.broken or connection.closed:
                        raise self._unavailable(self._scrub(exc, self._url)) from None
                    raise
        except psycopg_pool.PoolTimeout:
            # Every connection busy (load) or none made (the pool's reconnect is failing): a
            # retryable refusal either way, without waiting the pool's whole timeout. Only a
            # broken connection marks the database down: a busy pool is not an outage.
            raise StateStoreUnavailableError(
                f"database {self._where} is unavailable: no connection within {self._wait:g} s"
            ) from None
        except psycopg.OperationalError as exc:
            raise ConfigError(
                f"database {self._where} failed: {self._scrub(exc, self._url)}"
            ) from None

    def state_version(self) -> None:
        """Replicas write from other machines: nothing cheap tells this one of a change, so
        every lookup reads the database."""
        return None

    def now(self) -> datetime:
        """The database server's clock (one round trip): replicas compare theirs with it."""
        with self.transaction(read_only=True) as cursor:
            cursor.execute("SELECT clock_timestamp()")
            row = cursor.fetchone()
        assert row is not None
        when: datetime = row[0]
        return when.astimezone(UTC)

    @property
    def where(self) -> str:
        return self._where

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
