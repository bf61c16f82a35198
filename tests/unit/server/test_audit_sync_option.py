"""``broker serve --audit-sync``: how the workers' audit log is synced, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.commands.sts import ServeInput, run_serve
from broker.errors import ConfigError, UsageError
from broker.server.app import INTERVAL_SYNC_SECONDS, audit_log_from_environment


def test_default_syncs_each_answer_and_interval_within_the_bound(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BROKER_HOME", str(tmp_path))
    monkeypatch.delenv("BROKER_AUDIT_SYNC", raising=False)
    assert audit_log_from_environment().sync_interval == 0
    monkeypatch.setenv("BROKER_AUDIT_SYNC", "interval")
    log = audit_log_from_environment()
    assert 0 < log.sync_interval == INTERVAL_SYNC_SECONDS <= 1
    assert log.path == tmp_path / "audit" / "audit.jsonl"
    monkeypatch.setenv("BROKER_AUDIT_SYNC", "never")
    with pytest.raises(ConfigError, match="expected fsync or interval"):
        audit_log_from_environment()


def test_interval_is_refused_with_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database chain is durable at each commit; the option would only mislead."""
    monkeypatch.setenv("BROKER_DATABASE_URL", "postgresql://127.0.0.1:1/none")
    with pytest.raises(UsageError, match="drop the option"):
        run_serve(ServeInput("127.0.0.1", 0, None, 1, "interval"))


def test_the_option_is_on_the_command_line(run_broker) -> None:
    shown = run_broker("serve", "--help")
    assert "--audit-sync" in shown.stdout and "interval" in shown.stdout
    refused = run_broker("serve", "--audit-sync", "later")
    assert refused.returncode == 2 and "invalid choice" in refused.stderr
