"""Migration 0008 rebuilds the audit table without its hash index: the chain survives whole."""

from __future__ import annotations

from pathlib import Path

from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import open_database
from broker.storage.migrations import upgrade


def test_a_chain_written_before_the_rebuild_verifies_and_grows_after_it(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'broker.db'}")
    try:
        upgrade(database, through=7)
        before = SqlAuditLog(database)
        written = [before.append({"eventName": "GetCallerIdentity", "n": n}) for n in range(5)]
        assert [m.version for m in upgrade(database)] == [8]
        after = SqlAuditLog(database)
        after.append({"eventName": "GetSessionToken"})
        assert list(after.records())[:5] == written
        check = after.verify(expect_at_least=6)
        assert check.ok, check.problem
        assert check.events == 6
        with database.transaction(read_only=True) as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = 'audit_events'")
            schema = " ".join(str(row[0]) for row in cursor.fetchall() if row[0])
        assert "UNIQUE" not in schema.upper()
    finally:
        database.close()


def test_a_tampered_record_is_still_caught_after_the_rebuild(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'broker.db'}")
    try:
        upgrade(database)
        log = SqlAuditLog(database)
        for n in range(3):
            log.append({"eventName": "GetCallerIdentity", "n": n})
        with database.transaction() as cursor:  # a record copied over its successor
            cursor.execute("SELECT record, hash FROM audit_events WHERE sequence = 1")
            row = cursor.fetchone()
            assert row is not None
            cursor.execute(
                "UPDATE audit_events SET record = ?, hash = ? WHERE sequence = 2", (row[0], row[1])
            )
        check = log.verify()
        assert not check.ok
        assert check.problem == "record 2 is out of sequence"
    finally:
        database.close()
