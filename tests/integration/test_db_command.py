"""``broker db upgrade`` / ``status`` as a real process, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunBroker, one_line
from tests.postgres_peer import PostgresServer

pytestmark = pytest.mark.integration


def test_upgrade_then_status_on_postgresql(
    run_broker: RunBroker, fresh_database: str, postgres_server: PostgresServer
) -> None:
    first = run_broker("db", "upgrade", "--database-url", fresh_database)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "applied 0001_shared_state",
        "applied 0002_directory_runtime",
        "applied 0003_session_policies",
        "applied 0004_audit_head",
        "applied 0005_sts_mfa_devices",
        "applied 0006_legacy_imports",
        "applied 0007_directory_snapshots",
        "applied 0008_audit_events_lean",
    ]
    again = run_broker("db", "upgrade", env={"BROKER_DATABASE_URL": fresh_database})
    assert again.returncode == 0
    assert "schema is current" in one_line(again.stdout)
    assert postgres_server.password not in again.stdout + again.stderr
    status = run_broker("db", "status", "--database-url", fresh_database)
    assert status.stdout.splitlines() == [
        "0001_shared_state\tapplied",
        "0002_directory_runtime\tapplied",
        "0003_session_policies\tapplied",
        "0004_audit_head\tapplied",
        "0005_sts_mfa_devices\tapplied",
        "0006_legacy_imports\tapplied",
        "0007_directory_snapshots\tapplied",
        "0008_audit_events_lean\tapplied",
    ]


def test_default_database_is_sqlite_under_broker_home(
    run_broker: RunBroker, broker_home: Path
) -> None:
    status = run_broker("db", "status", env={"BROKER_DATABASE_URL": ""})
    assert status.stdout.splitlines() == [
        "0001_shared_state\tpending",
        "0002_directory_runtime\tpending",
        "0003_session_policies\tpending",
        "0004_audit_head\tpending",
        "0005_sts_mfa_devices\tpending",
        "0006_legacy_imports\tpending",
        "0007_directory_snapshots\tpending",
        "0008_audit_events_lean\tpending",
    ]
    assert run_broker("db", "upgrade", env={"BROKER_DATABASE_URL": ""}).returncode == 0
    assert (broker_home / "broker.db").stat().st_mode & 0o077 == 0


def test_unreachable_server_is_one_line_without_password(
    run_broker: RunBroker, postgres_server: PostgresServer
) -> None:
    url = f"postgresql://postgres:wrong-pw-123@127.0.0.1:{postgres_server.port}/postgres"
    result = run_broker("db", "upgrade", "--database-url", url, timeout=60)
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert "wrong-pw-123" not in line
    assert "***" in line


def test_global_database_url_option(run_broker: RunBroker, tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'elsewhere.db'}"
    result = run_broker("--database-url", url, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "elsewhere.db").exists()
