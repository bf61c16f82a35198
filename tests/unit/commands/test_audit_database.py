"""`broker audit verify|tail|query` read the database chain when a database URL is set.

The embedded SQLite engine stands in for PostgreSQL here (same schema, same chain code); the
PostgreSQL path runs through two `broker serve` replicas in tests/integration.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
from pathlib import Path

import pytest

from broker.commands.audit import AuditQueryInput, run_query, run_verify
from broker.errors import AuditError
from broker.storage.audit_chain import ChainCheck, SqlAuditLog, canonical
from broker.storage.database import open_database
from broker.storage.migrations import upgrade


def _event(n: int, name: str) -> dict[str, object]:
    return {
        "eventName": name,
        "eventTime": f"2026-01-31T12:00:{n:02d}Z",
        "requestID": f"req-{n}",
        "userIdentity": {"userName": "alice" if n % 2 else "bob"},
    }


@pytest.fixture
def chain_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite://{tmp_path / 'shared.db'}"
    database = open_database(url)
    upgrade(database)
    chain = SqlAuditLog(database)
    for n in range(6):
        chain.append(_event(n, "GetCallerIdentity" if n % 3 else "AssumeRole"))
    database.close()
    monkeypatch.setenv("BROKER_DATABASE_URL", url)
    return url


def test_verify_reads_the_database_chain(chain_url: str, broker_home: Path) -> None:
    out = io.StringIO()
    assert run_verify(out) == 0
    assert out.getvalue().startswith("ok: 6 events in the database chain")


def test_verify_refuses_an_edited_database_record(chain_url: str, broker_home: Path) -> None:
    database = open_database(chain_url)
    with database.transaction() as cursor:
        cursor.execute("SELECT record FROM audit_events WHERE sequence = 3")
        (text,) = cursor.fetchone()
        edited = json.loads(text) | {"requestID": "forged"}
        cursor.execute(
            "UPDATE audit_events SET record = ? WHERE sequence = 3", (json.dumps(edited),)
        )
    database.close()
    with pytest.raises(AuditError, match="database audit chain is broken"):
        run_verify(io.StringIO())


def test_query_and_tail_filter_the_database_chain(chain_url: str, broker_home: Path) -> None:
    out = io.StringIO()
    run_query(AuditQueryInput(user="alice", event="GetCallerIdentity"), out)
    assert [json.loads(line)["requestID"] for line in out.getvalue().splitlines()] == [
        "req-1",
        "req-5",
    ]
    out = io.StringIO()
    run_query(AuditQueryInput(limit=2), out)
    assert [json.loads(line)["eventSequence"] for line in out.getvalue().splitlines()] == [5, 6]


def _execute(url: str, *statements: tuple[str, tuple[object, ...]]) -> None:
    database = open_database(url)
    with database.transaction() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
    database.close()


def _verify_error(url: str) -> str:
    with pytest.raises(AuditError) as caught:
        run_verify(io.StringIO())
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("cut", "missing"), [(1, "record 6 missing"), (2, "records 5-6 missing")])
def test_verify_refuses_a_database_chain_cut_at_the_end(
    chain_url: str, broker_home: Path, cut: int, missing: str
) -> None:
    _execute(chain_url, ("DELETE FROM audit_events WHERE sequence > ?", (6 - cut,)))
    message = _verify_error(chain_url)
    assert f"{missing} at the end (the head records 6)" in message


def test_a_cut_then_new_appends_leave_a_gap(chain_url: str, broker_home: Path) -> None:
    _execute(chain_url, ("DELETE FROM audit_events WHERE sequence = 6", ()))
    database = open_database(chain_url)
    appended = SqlAuditLog(database).append(_event(7, "AssumeRole"))
    database.close()
    assert appended["eventSequence"] == 7  # numbered from the head, not from the newest row
    assert "record 6 is out of sequence" in _verify_error(chain_url)


def test_verify_refuses_a_replaced_newest_record(chain_url: str, broker_home: Path) -> None:
    database = open_database(chain_url)
    with database.transaction() as cursor:
        cursor.execute("SELECT record FROM audit_events WHERE sequence = 6")
        (text,) = cursor.fetchone() or ("",)
        forged = canonical(json.loads(text) | {"requestID": "forged"})
        cursor.execute(
            "UPDATE audit_events SET record = ?, hash = ? WHERE sequence = 6",
            (forged.decode(), hashlib.sha256(forged).hexdigest()),
        )
    database.close()
    assert "record 6 does not match the head's hash" in _verify_error(chain_url)


def test_verify_refuses_records_past_the_head(chain_url: str, broker_home: Path) -> None:
    database = open_database(chain_url)
    log = SqlAuditLog(database)
    extra = {**_event(7, "AssumeRole"), "eventSequence": 7}
    extra["previousEventHash"] = hashlib.sha256(canonical(list(log.records())[-1])).hexdigest()
    line = canonical(extra)
    with database.transaction() as cursor:
        cursor.execute(
            "INSERT INTO audit_events (sequence, record, hash) VALUES (7, ?, ?)",
            (line.decode(), hashlib.sha256(line).hexdigest()),
        )
    database.close()
    assert "record 7 beyond the head (the head records 6)" in _verify_error(chain_url)


def test_a_chain_without_its_head_refuses_verify_and_writes(
    chain_url: str, broker_home: Path
) -> None:
    _execute(chain_url, ("DELETE FROM audit_head", ()))
    assert "the head is missing (6 records" in _verify_error(chain_url)
    database = open_database(chain_url)
    with pytest.raises(AuditError, match="records but no head"):
        SqlAuditLog(database).append(_event(7, "AssumeRole"))
    database.close()


def test_the_migration_takes_an_existing_chain_end_as_its_head(
    chain_url: str, broker_home: Path
) -> None:
    _execute(
        chain_url,
        ("DROP TABLE audit_head", ()),
        ("DELETE FROM schema_migrations WHERE version = 4", ()),
    )
    database = open_database(chain_url)
    assert [m.name for m in upgrade(database)] == ["audit_head"]
    log = SqlAuditLog(database)
    assert log.append(_event(7, "AssumeRole"))["eventSequence"] == 7
    database.close()
    out = io.StringIO()
    run_verify(out)
    assert out.getvalue().startswith("ok: 7 events in the database chain")


def test_concurrent_writers_and_a_verifier_agree(chain_url: str, broker_home: Path) -> None:
    replicas = [open_database(chain_url) for _ in range(2)]
    logs = [SqlAuditLog(d) for d in replicas]
    checks: list[ChainCheck] = []

    def write(log: SqlAuditLog, tag: int) -> None:
        for i in range(15):
            log.append(_event(i % 60, f"Write{tag}"))

    writers = [threading.Thread(target=write, args=(logs[i % 2], i)) for i in range(4)]
    for thread in writers:
        thread.start()
    while any(t.is_alive() for t in writers) and len(checks) < 50:
        checks.append(logs[1].verify())
    for thread in writers:
        thread.join(timeout=60)
    checks.append(logs[0].verify(expect_at_least=66))
    for database in replicas:
        database.close()
    assert all(c.ok for c in checks), [c.problem for c in checks if not c.ok]
    assert checks[-1].events == 66
