"""A data directory from before the snapshot moved into the state database: the runtime rows of
its ``directory.sqlite`` are moved once, with one line on stderr, and the file set aside."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from broker.directory.snapshot_cache import forget_all
from broker.errors import ConfigError
from broker.sts.directory_state import open_directory
from tests.conftest import CONFIG, one_line

# The runtime tables as the old directory.sqlite (schema version 4) created them.
_OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '4'), ('fingerprint', 'old');
CREATE TABLE users (name TEXT PRIMARY KEY);
CREATE TABLE mfa_devices (
    user_name TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL, created_at TEXT NOT NULL,
    last_step INTEGER, PRIMARY KEY (user_name, device)
);
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY, user_name TEXT NOT NULL, secret_hash TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT
);
CREATE TABLE jit_users (
    provider TEXT NOT NULL, subject TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL,
    first_seen TEXT NOT NULL, PRIMARY KEY (provider, subject)
);
INSERT INTO mfa_devices VALUES ('alice', 'phone', 'totp', '2026-01-02T03:04:05+00:00', 58000000);
INSERT INTO mfa_devices VALUES ('bob', 'totp', 'totp', '2026-01-02T03:04:05+00:00', NULL);
INSERT INTO jit_users VALUES ('demo', 'sub-zed', 'zed', 'zed@example.com',
    '2026-01-02T03:04:05+00:00');
"""


def _old_file(data_dir: Path, extra: str = "") -> Path:
    path = data_dir / "directory.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(_OLD_SCHEMA + extra)
    conn.close()
    path.chmod(0o600)
    return path


@pytest.fixture(autouse=True)
def _new_process() -> None:
    forget_all()


def test_runtime_rows_move_once_with_one_line_and_the_file_is_set_aside(
    data_dir, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _old_file(data_dir)
    directory = open_directory(CONFIG, data_dir, None)
    try:
        line = one_line(capsys.readouterr().err)
        assert "directory.sqlite (2 MFA device(s), 1 JIT user(s))" in line
        assert "<name>.imported" in line
        assert not old.exists() and old.with_name("directory.sqlite.imported").exists()
        assert directory.mfa_devices("alice") == ["phone"]
        assert directory.mfa_last_step("alice", "phone") == 58_000_000
        assert not directory.set_mfa_last_step("alice", "phone", 58_000_000)  # used before
        assert directory.mfa_devices("bob") == ["totp"]
        assert not directory.runtime.record_jit_user("demo", "sub-zed", "zed", "")  # known
    finally:
        directory.close()
    open_directory(CONFIG, data_dir, None).close()
    assert capsys.readouterr().err == ""


def test_a_second_copy_of_the_old_file_is_only_set_aside(data_dir, capsys) -> None:
    """The marker row: an old file that appears again (restored from a backup) is not moved
    twice over what the database has since recorded."""
    _old_file(data_dir)
    directory = open_directory(CONFIG, data_dir, None)
    directory.remove_mfa_device("alice", "phone")
    directory.close()
    capsys.readouterr()
    _old_file(data_dir)
    directory = open_directory(CONFIG, data_dir, None)
    try:
        assert directory.mfa_devices("alice") == []
        assert (data_dir / "directory.sqlite.imported.2").exists()
    finally:
        directory.close()


def test_access_key_rows_no_broker_wrote_are_refused_and_nothing_moves(data_dir) -> None:
    old = _old_file(
        data_dir,
        "INSERT INTO access_keys VALUES ('AKIAOLD', 'svc', 'h', 'Active', '2026-01-01', NULL);",
    )
    with pytest.raises(ConfigError) as caught:
        open_directory(CONFIG, data_dir, None)
    assert "holds 1 directory access key row(s)" in one_line(str(caught.value))
    assert old.exists()
    old.unlink()
    directory = open_directory(CONFIG, data_dir, None)
    try:
        assert directory.mfa_devices("alice") == []
    finally:
        directory.close()


def test_an_old_file_others_can_read_is_refused(data_dir) -> None:
    old = _old_file(data_dir)
    old.chmod(0o644)
    with pytest.raises(ConfigError, match="accessible to other users; run chmod 600"):
        open_directory(CONFIG, data_dir, None)
    assert old.exists()


def test_a_file_that_is_not_a_directory_database_is_refused(data_dir) -> None:
    old = data_dir / "directory.sqlite"
    old.write_bytes(b"not a database at all")
    old.chmod(0o600)
    with pytest.raises(ConfigError, match="is not a directory database; fix or move it aside"):
        open_directory(CONFIG, data_dir, None)


def test_the_cli_moves_an_old_file_and_lists_the_moved_device(broker_home, run_broker) -> None:
    _old_file(broker_home)
    listing = run_broker("directory", "mfa", "list", "alice")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.split() == ["phone"]
    assert "moved the old state files" in one_line(listing.stderr)
    again = run_broker("directory", "mfa", "list", "alice")
    assert again.stdout.split() == ["phone"] and again.stderr == ""
