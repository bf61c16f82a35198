"""The SQLite writers' queue (an flock of ``<database>.writers``) and read-only snapshots.

The queue only orders writers of different processes; these tests check that it can never
wedge the database (a writer killed while holding it), that a forked child queues behind its
parent instead of sharing the parent's place, and that readers never take it.
"""

from __future__ import annotations

import fcntl
import os
import textwrap
import threading
from pathlib import Path

import pytest

from broker.storage.sqlite_db import SqliteDatabase
from broker.storage.url import database_url
from tests.unit.storage.killed_holder import held_until_killed


def _open(path: Path) -> SqliteDatabase:
    database = SqliteDatabase(database_url(f"sqlite:///{path}"), busy_timeout=10.0)
    with database.transaction() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS t (n INTEGER)")
    return database


def test_a_writer_killed_inside_its_transaction_does_not_block_the_next(tmp_path: Path) -> None:
    path = tmp_path / "broker.db"
    _open(path).close()
    holder = textwrap.dedent(
        f"""
        import sys, time
        from broker.storage.sqlite_db import SqliteDatabase
        from broker.storage.url import database_url
        database = SqliteDatabase(database_url("sqlite:///{path}"))
        with database.transaction() as cursor:
            cursor.execute("INSERT INTO t (n) VALUES (1)")
            print("holding", flush=True)
            sys.stdin.read()  # until killed
        """
    )
    with held_until_killed(holder, "holding"):
        writers = os.open(f"{path}.writers", os.O_RDWR)
        try:  # the child holds the queue now ...
            with pytest.raises(BlockingIOError):
                fcntl.flock(writers, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(writers)
    # ... and once it is killed, the next writer goes on, and the killed one's insert is gone.
    database = _open(path)
    try:
        with database.transaction() as cursor:
            cursor.execute("INSERT INTO t (n) VALUES (2)")
        with database.transaction(read_only=True) as cursor:
            cursor.execute("SELECT n FROM t ORDER BY n")
            assert cursor.fetchall() == [(2,)]
    finally:
        database.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_forked_child_queues_behind_its_parent(tmp_path: Path) -> None:
    database = _open(tmp_path / "broker.db")
    try:
        with database.transaction() as cursor:
            cursor.execute("INSERT INTO t (n) VALUES (1)")
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: an inherited descriptor would share the parent's flock
                code = 1
                try:
                    os.close(read)
                    fcntl.flock(database._writers_lock(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    code = 0  # it waits for the parent, as another process must
                finally:
                    os.write(write, bytes([code]))
                    os._exit(code)
            os.close(write)
            answer = os.read(read, 1)
            os.close(read)
            _, status = os.waitpid(pid, 0)
        assert answer == b"\x00"
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        database.close()


def test_readers_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    """A read-only transaction takes neither the queue nor SQLite's write lock: it reads the
    last committed state while another thread is inside a write transaction."""
    database = _open(tmp_path / "broker.db")
    inside, release = threading.Event(), threading.Event()

    def writer() -> None:
        with database.transaction() as cursor:
            cursor.execute("INSERT INTO t (n) VALUES (7)")
            inside.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        with database.transaction(read_only=True) as cursor:
            cursor.execute("SELECT COUNT(*) FROM t")
            assert cursor.fetchone() == (0,)
    finally:
        release.set()
        thread.join(timeout=30)
    with database.transaction(read_only=True) as cursor:
        cursor.execute("SELECT COUNT(*) FROM t")
        assert cursor.fetchone() == (1,)
    database.close()
