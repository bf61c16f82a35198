"""Opening one fresh SQLite file from many connections at once (workers starting together)."""

from __future__ import annotations

import threading
from pathlib import Path

from broker.storage.database import Database, open_database


def _open_together(databases: list[Database]) -> list[Exception]:
    failures: list[Exception] = []
    start = threading.Barrier(len(databases))

    def open_one(database: Database) -> None:
        start.wait()
        try:
            with database.transaction() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_one, args=(d,)) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return failures


def test_many_openers_of_a_fresh_file_all_start(tmp_path: Path) -> None:
    """``journal_mode=WAL`` on a new file is answered "database is locked" without SQLite's busy
    handler while another connection converts it; every opener must still get its connection."""
    for round_ in range(15):
        url = f"sqlite:///{tmp_path / f'round-{round_}' / 'broker.db'}"
        databases = [open_database(url) for _ in range(8)]
        try:
            assert _open_together(databases) == []
        finally:
            for database in databases:
                database.close()
