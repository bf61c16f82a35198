"""Revocations and access keys kept in the process are never served past a change made by
another process: the SQLite change counter (``broker.storage.change_counter``) moves first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.storage.access_key_records import AccessKeyRecord, SqlAccessKeyRecords
from broker.storage.database import Database, open_database
from broker.storage.migrations import upgrade
from broker.storage.revocations import RevocationRule, SqlRevocations
from broker.storage.state_cache import StateCache
from tests.unit.storage.killed_holder import held_until_killed

ISSUED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ROLE = "arn:aws:iam::111122223333:role/Deploy"


class Session:
    """A verified session's facts, as the revocation check reads them."""

    def __init__(self, session_id: str, role_arn: str | None, user: str | None) -> None:
        self.session_id, self.role_arn, self.user, self.issued_at = (
            session_id,
            role_arn,
            user,
            ISSUED,
        )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "broker.db"


@pytest.fixture
def database(path: Path) -> Iterator[Database]:
    opened = open_database(f"sqlite:///{path}")
    upgrade(opened)
    yield opened
    opened.close()


def in_another_process(path: Path, body: str) -> None:
    """Run ``body`` (with ``database`` open on the same file) in a fresh Python process."""
    script = textwrap.dedent(
        f"""
        from datetime import UTC, datetime
        from broker.storage.database import open_database
        from broker.storage.access_key_records import SqlAccessKeyRecords
        from broker.storage.revocations import RevocationRule, SqlRevocations
        database = open_database("sqlite:///{path}")
        """
    ) + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_revocation_by_another_process_is_honoured_at_the_next_check(
    path: Path, database: Database
) -> None:
    revocations = SqlRevocations(database)
    session = Session("s-1", ROLE, None)
    other = Session("s-2", ROLE, None)
    assert not revocations.is_revoked(session)  # the rules are now kept in this process
    assert database.state_version() is not None
    in_another_process(
        path, 'SqlRevocations(database).add(RevocationRule("session", "s-1", datetime.now(UTC)))'
    )
    assert revocations.is_revoked(session)
    assert not revocations.is_revoked(other)
    in_another_process(
        path,
        f'SqlRevocations(database).add(RevocationRule("role", "{ROLE}", '
        f"datetime({ISSUED.year}, 1, 2, 3, 4, 6, tzinfo=UTC)))",
    )
    assert revocations.is_revoked(other)
    assert not revocations.is_revoked(Session("s-3", "arn:aws:iam::111122223333:role/Other", None))


def test_cutoffs_compare_as_the_query_does(database: Database) -> None:
    """The kept rules answer exactly as the indexed query: strictly issued before the cutoff,
    per role or per user, the latest cutoff winning."""
    revocations = SqlRevocations(database)
    revocations.add(RevocationRule("user", "svc-ci", ISSUED - timedelta(days=1)))
    revocations.add(RevocationRule("user", "svc-ci", ISSUED))
    revocations.add(RevocationRule("user", "svc-ci", ISSUED - timedelta(days=2)))
    assert not revocations.is_revoked(Session("a", None, "svc-ci"))  # issued at the cutoff
    revocations.add(RevocationRule("user", "svc-ci", ISSUED + timedelta(microseconds=1)))
    assert revocations.is_revoked(Session("a", None, "svc-ci"))
    assert not revocations.is_revoked(Session("a", None, "svc-other"))
    assert not revocations.is_revoked(Session("a", ROLE, None))


def test_an_access_key_deactivated_by_another_process_is_seen_at_once(
    path: Path, database: Database
) -> None:
    records = SqlAccessKeyRecords(database)
    records.create(AccessKeyRecord("BRKUEXAMPLE1", "svc-ci", "111122223333", "Active", ISSUED))
    assert records.get("BRKUNOSUCHKEY") is None
    first = records.get("BRKUEXAMPLE1")
    assert first is not None and first.status == "Active"
    in_another_process(path, 'SqlAccessKeyRecords(database).set_status("BRKUEXAMPLE1", "Inactive")')
    second = records.get("BRKUEXAMPLE1")
    assert second is not None and second.status == "Inactive"
    in_another_process(path, 'SqlAccessKeyRecords(database).delete("BRKUEXAMPLE1")')
    assert records.get("BRKUEXAMPLE1") is None


def test_a_writer_killed_mid_way_turns_the_cache_off_until_the_next_writer(
    path: Path, database: Database
) -> None:
    revocations = SqlRevocations(database)
    assert not revocations.is_revoked(Session("s-1", ROLE, None))
    holder = textwrap.dedent(
        f"""
        import sys
        from broker.storage.database import open_database
        database = open_database("sqlite:///{path}")
        with database.transaction() as cursor:
            cursor.execute("DELETE FROM revocations WHERE value = 'nothing'")
            print("inside", flush=True)
            sys.stdin.read()  # until killed
        """
    )
    with held_until_killed(holder, "inside"):
        pass
    assert database.state_version() is None  # odd: nothing is served from a cache
    loads: list[int] = []
    cache: StateCache[str, int] = StateCache(database)
    assert cache.get("k", lambda: loads.append(1) or 1) == 1
    assert cache.get("k", lambda: loads.append(2) or 2) == 2
    assert loads == [1, 2]
    revocations.add(RevocationRule("session", "s-1", ISSUED))  # the next writer moves it on
    assert database.state_version() is not None
    assert revocations.is_revoked(Session("s-1", ROLE, None))


def test_a_value_read_while_a_writer_committed_is_not_kept(path: Path, database: Database) -> None:
    cache: StateCache[str, str] = StateCache(database)
    other = open_database(f"sqlite:///{path}")
    try:

        def load_overlapped() -> str:
            SqlRevocations(other).add(RevocationRule("session", "x", ISSUED))
            return "read before that commit"

        assert cache.get("k", load_overlapped) == "read before that commit"
        assert cache.get("k", lambda: "read again") == "read again"
        assert cache.get("k", lambda: "not read") == "read again"  # now it is kept
    finally:
        other.close()


def test_a_replaced_counter_file_is_never_taken_for_the_old_one(
    path: Path, database: Database
) -> None:
    revocations = SqlRevocations(database)
    assert not revocations.is_revoked(Session("s-1", ROLE, None))
    Path(f"{path}.changes").unlink()
    in_another_process(
        path, 'SqlRevocations(database).add(RevocationRule("session", "s-1", datetime.now(UTC)))'
    )
    assert revocations.is_revoked(Session("s-1", ROLE, None))


def test_a_counter_file_renamed_over_is_noticed_by_a_reader_holding_the_old_one(
    path: Path, database: Database
) -> None:
    """A reader keeps the old file's descriptor open; the path now names another file (a
    restore renames a copy into place), so the old file's count never moves again."""
    revocations = SqlRevocations(database)
    assert not revocations.is_revoked(Session("s-2", ROLE, None))
    counter = Path(f"{path}.changes")
    copy = counter.with_name("copy")
    copy.write_bytes(counter.read_bytes())
    copy.replace(counter)
    in_another_process(
        path, 'SqlRevocations(database).add(RevocationRule("session", "s-2", datetime.now(UTC)))'
    )
    assert revocations.is_revoked(Session("s-2", ROLE, None))


def test_a_closed_counter_reads_again_from_the_file(path: Path, database: Database) -> None:
    from broker.storage.change_counter import ChangeCounter

    counter = ChangeCounter(path)
    counter.begin()
    counter.end()
    seen = counter.version()
    assert seen is not None
    counter.close()
    assert counter.version() == seen
    counter.begin()
    assert counter.version() is None  # odd: a writer between its steps
    counter.end()
    after = counter.version()
    assert after is not None and after[1] == seen[1] + 2
    counter.close()


def test_audit_appends_and_one_time_values_leave_the_cache_alone(database: Database) -> None:
    from broker.storage.audit_chain import SqlAuditLog
    from broker.storage.replay import SqlReplayCache

    before = database.state_version()
    assert before is not None
    SqlAuditLog(database).append({"eventName": "GetCallerIdentity"})
    SqlReplayCache(database).add_once("saml", "id-1", ISSUED + timedelta(days=3650))
    assert database.state_version() == before
