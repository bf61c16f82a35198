"""``broker serve --audit-sync``: how the workers' state database commits, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.commands.sts import ServeInput, run_serve
from broker.errors import ConfigError, UsageError
from broker.server.app import WorkerSettings, service_for


def _synchronous(service) -> int:
    with service.audit._db.transaction(read_only=True) as cursor:
        cursor.execute("PRAGMA synchronous")
        row = cursor.fetchone()
    return int(row[0])


def test_default_syncs_each_commit_and_interval_leaves_it_to_checkpoints(
    broker_home: Path,
) -> None:
    assert _synchronous(service_for(WorkerSettings(data_dir=broker_home))) == 2  # FULL
    interval = WorkerSettings(data_dir=broker_home, audit_sync="interval")
    assert _synchronous(service_for(interval)) == 1  # NORMAL: WAL written, fsync later
    with pytest.raises(ConfigError, match="expected fsync or interval"):
        service_for(WorkerSettings(data_dir=broker_home, audit_sync="never"))


def test_interval_is_refused_with_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """The configured database's chain is durable at each commit; the option would mislead."""
    monkeypatch.setenv("BROKER_DATABASE_URL", "postgresql://127.0.0.1:1/none")
    with pytest.raises(UsageError, match="drop the option"):
        run_serve(ServeInput("127.0.0.1", 0, None, 1, "interval"))


def test_the_option_is_on_the_command_line(run_broker) -> None:
    shown = run_broker("serve", "--help")
    assert "--audit-sync" in shown.stdout and "interval" in shown.stdout
    refused = run_broker("serve", "--audit-sync", "later")
    assert refused.returncode == 2 and "invalid choice" in refused.stderr
