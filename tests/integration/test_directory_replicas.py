"""Two directory replicas (own data directories, same configuration) share runtime state in
PostgreSQL when ``BROKER_DATABASE_URL`` is set; without it each keeps its own (embedded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.directory.load import load_directory
from broker.directory.runtime import EmbeddedRuntime
from broker.errors import ConfigError
from broker.storage.database import open_database
from broker.storage.directory_runtime import SqlDirectoryRuntime
from broker.storage.migrations import upgrade
from tests.conftest import CONFIG

pytestmark = pytest.mark.integration


def _replica(tmp_path: Path, name: str):  # type: ignore[no-untyped-def]
    home = tmp_path / name
    home.mkdir(mode=0o700)
    return load_directory(CONFIG, data_dir=home)


def test_mfa_step_used_on_one_replica_is_refused_on_the_other(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = open_database(fresh_database)
    upgrade(database)
    database.close()
    monkeypatch.setenv("BROKER_DATABASE_URL", fresh_database)
    a, b = _replica(tmp_path, "a"), _replica(tmp_path, "b")
    assert isinstance(a.runtime, SqlDirectoryRuntime)
    a.add_mfa_device("alice", "phone")
    assert b.mfa_devices("alice") == ["phone"]
    assert b.set_mfa_last_step("alice", "phone", 58_000_000)
    assert not a.set_mfa_last_step("alice", "phone", 58_000_000)
    a.close()
    b.close()


def test_schema_behind_is_refused(
    tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_DATABASE_URL", fresh_database)
    with pytest.raises(ConfigError, match="broker db upgrade"):
        _replica(tmp_path, "a")


def test_embedded_replicas_keep_their_own_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BROKER_DATABASE_URL", raising=False)
    a, b = _replica(tmp_path, "a"), _replica(tmp_path, "b")
    assert isinstance(a.runtime, EmbeddedRuntime)
    a.add_mfa_device("alice", "phone")
    assert b.mfa_devices("alice") == []
    a.close()
    b.close()
