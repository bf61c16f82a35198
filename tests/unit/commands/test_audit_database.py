"""`broker audit verify|tail|query` read the database chain when a database URL is set.

The embedded SQLite engine stands in for PostgreSQL here (same schema, same chain code); the
PostgreSQL path runs through two `broker serve` replicas in tests/integration.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from broker.audit import AuditLog
from broker.commands.audit import AuditQueryInput, run_query, run_verify
from broker.errors import AuditError
from broker.storage.audit_chain import SqlAuditLog
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
    assert run_verify(None, out) == 0
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
        run_verify(None, io.StringIO())


def test_query_and_tail_filter_the_database_chain(chain_url: str, broker_home: Path) -> None:
    out = io.StringIO()
    run_query(AuditQueryInput(log=None, user="alice", event="GetCallerIdentity"), out)
    assert [json.loads(line)["requestID"] for line in out.getvalue().splitlines()] == [
        "req-1",
        "req-5",
    ]
    out = io.StringIO()
    run_query(AuditQueryInput(log=None, limit=2), out)
    assert [json.loads(line)["eventSequence"] for line in out.getvalue().splitlines()] == [5, 6]


def test_an_explicit_log_file_wins_over_the_database(
    chain_url: str, broker_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "file-audit.jsonl"
    AuditLog(path).append(_event(9, "GetSessionToken"))
    out = io.StringIO()
    run_query(AuditQueryInput(log=path), out)
    assert [json.loads(line)["requestID"] for line in out.getvalue().splitlines()] == ["req-9"]
    out = io.StringIO()
    run_verify(path, out)
    assert out.getvalue().startswith("ok: 1 events, hash chain intact")
