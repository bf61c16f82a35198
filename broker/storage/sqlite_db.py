"""The embedded backend: one SQLite file under the data directory (0600 in a 0700 directory).

One connection per thread (sqlite3 connections are not shared across threads), WAL so readers
never wait for the writer, a busy timeout so writers queue instead of failing, and
``synchronous=FULL`` so a committed audit event survives a power cut.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from broker.errors import ConfigError
from broker.private_dirs import make_private_dirs
from broker.storage.change_counter import ChangeCounter
from broker.storage.database import Cursor
from broker.storage.url import DatabaseUrl

__all__ = ["SqliteDatabase"]


class SqliteDatabase:
    """``Database`` on a SQLite file."""

    dialect = "sqlite"

    def __init__(
        self, url: DatabaseUrl, *, busy_timeout: float = 30.0, durable_commits: bool = True
    ) -> None:
        """``durable_commits=False`` (``broker serve --audit-sync interval``): a commit is written
        to the WAL before it returns (a killed process loses nothing committed) but fsynced at
        checkpoints, so a power loss may drop the newest commits (SQLite ``synchronous=NORMAL``).
        """
        self._synchronous = "FULL" if durable_commits else "NORMAL"
        self.path = Path(url.sqlite_path)
        self._timeout = busy_timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Writers of this process queue here rather than in SQLite's busy handler, which
        # sleeps in growing steps (tens of ms) and would make tail latency jump.
        self._writer = threading.Lock()
        # ... and writers of other processes (two `broker serve` workers, a credential-process
        # minting beside them) queue on an flock of a file beside the database, which the
        # kernel hands over at once, for the same reason. The flock only orders writers:
        # BEGIN IMMEDIATE still guards the data, so a writer that bypasses the queue is slower,
        # never wrong, and a process that dies holding it has it released by the kernel.
        self._writers_fd: int | None = None
        self._writers_pid = 0
        self._changes = ChangeCounter(self.path)

    def _connect(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        # An unusable data directory (a file in its place) is the OSError the front ends
        # report as such; only SQLite's own failures become a ConfigError naming the database.
        make_private_dirs(self.path.parent)
        # Never open and close the file once it exists: closing any descriptor of it drops
        # every POSIX lock this process holds on it, SQLite's included, and another process
        # would then take this one's connections for gone (and remove the WAL under them).
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            os.close(fd)
        mode = os.stat(self.path).st_mode
        if mode & 0o077:
            raise ConfigError(
                f"the database {self.path} is readable by other users; run chmod 600 on it"
            )
        try:
            connection = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            self._enter_wal(connection)
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
            connection.execute("PRAGMA foreign_keys=ON")
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot open the database {self.path}: {exc}") from None
        self._local.connection = connection
        with self._lock:
            self._all.append(connection)
        return connection

    def _enter_wal(self, connection: sqlite3.Connection) -> None:
        """Switch to WAL, waiting up to the busy timeout for another opener doing the same.

        SQLite answers ``database is locked`` to ``journal_mode=WAL`` at once, without its busy
        handler, while another connection is converting a new file: two workers or replicas
        starting together on a fresh data directory would otherwise fail to start.
        """
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    @contextmanager
    def transaction(
        self,
        *,
        serialize: str | None = None,
        read_only: bool = False,
        leaves_cached_state: bool = False,
    ) -> Iterator[Cursor]:
        connection = self._connect()
        if read_only and serialize is None:
            # No BEGIN: each statement reads its own snapshot, as on PostgreSQL (autocommit),
            # which saves two statements on every request's lookups (revocation, access key).
            # Closing the cursor resets its statement, ending that snapshot.
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            return
        # A write transaction takes the write lock up front (SQLite has one writer; taking it
        # late can deadlock two writers); that also serializes every named section.
        with self._writer:
            writers = self._writers_lock()
            fcntl.flock(writers, fcntl.LOCK_EX)
            try:
                cursor = connection.cursor()
                cursor.execute("BEGIN IMMEDIATE")
                moves = not leaves_cached_state
                try:
                    if moves:  # odd from before the commit until after it (change_counter)
                        self._changes.begin()
                    yield cursor
                except BaseException:
                    connection.rollback()
                    raise
                else:
                    connection.commit()
                finally:
                    cursor.close()
                    if moves:
                        self._changes.end()
            finally:
                fcntl.flock(writers, fcntl.LOCK_UN)

    def _writers_lock(self) -> int:
        """The descriptor of ``<database>.writers``, opened once per process (called under
        ``_writer``). A forked child opens its own: an inherited descriptor shares the parent's
        flock, so the two would not queue behind each other."""
        if self._writers_fd is not None and self._writers_pid != os.getpid():
            os.close(self._writers_fd)  # the parent's descriptor stays open: its flock holds
            self._writers_fd = None
        if self._writers_fd is None:
            path = self.path.with_name(self.path.name + ".writers")
            try:
                self._writers_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise ConfigError(f"cannot open the database's lock file {path}: {exc}") from None
            self._writers_pid = os.getpid()
        return self._writers_fd

    def state_version(self) -> tuple[int, int] | None:
        """The change counter beside the file (``broker.storage.change_counter``)."""
        return self._changes.version()

    def now(self) -> datetime:
        """The clock of the one machine every SQLite user shares: this one."""
        return datetime.now(UTC)

    @property
    def where(self) -> str:
        return str(self.path)

    def close(self) -> None:
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
        self._local = threading.local()
        self._changes.close()
        with self._writer:
            if self._writers_fd is not None:
                os.close(self._writers_fd)
                self._writers_fd = None
