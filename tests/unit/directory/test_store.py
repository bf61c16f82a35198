"""The snapshot in the state database: one per configuration fingerprint, stored whole, reused
by every opener of the same files, never replaced by a bad configuration; runtime state kept
once beside the snapshots."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker.directory import InvalidDirectoryError, load_directory
from broker.directory import load as load_module
from broker.directory.database import SCHEMA_VERSION, read_content
from broker.directory.snapshot_cache import forget_all
from broker.directory.source import Source, fingerprint
from broker.errors import ConfigError, DirectoryError
from broker.storage.database import Database
from broker.storage.directory_snapshots import KEEP, SqlDirectorySnapshots
from broker.storage.migrations import open_current
from broker.storage.url import database_url
from tests.conftest import REPO


@pytest.fixture
def database(data_dir: Path):  # type: ignore[no-untyped-def]
    opened = open_current(database_url(None, data_dir))
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def _new_process() -> None:
    """Each test starts as a new process would: nothing cached in memory."""
    forget_all()


def _stored(database: Database) -> list[str]:
    return SqlDirectorySnapshots(database).fingerprints()


def _no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(_source: Source) -> None:
        raise AssertionError("validated again: the stored snapshot was not reused")

    monkeypatch.setattr(load_module, "validate", refuse)


def test_the_snapshot_lives_in_the_state_database_keyed_by_fingerprint(
    config, data_dir, database
) -> None:
    load_directory(config.root, database).close()
    assert _stored(database) == [fingerprint(Source(config.root))]
    assert not (data_dir / "directory.sqlite").exists()
    assert (data_dir / "broker.db").stat().st_mode & 0o777 == 0o600


def test_a_second_opener_of_the_same_files_reuses_the_stored_snapshot(
    config, database, monkeypatch
) -> None:
    load_directory(config.root, database).close()
    forget_all()  # another process (a second worker or replica)
    _no_validation(monkeypatch)
    directory = load_directory(config.root, database)
    assert directory.user("alice").email == "alice@example.com"
    directory.close()
    assert len(_stored(database)) == 1


def test_config_change_adds_a_snapshot_and_the_directory_sees_it(config, database) -> None:
    load_directory(config.root, database).close()
    before = fingerprint(Source(config.root))
    config.replace("groups.toml", 'members = ["mallory"]', 'members = ["mallory", "oscar"]')
    directory = load_directory(config.root, database)
    assert directory.user("oscar").groups == ("contractors",)
    directory.close()
    assert _stored(database) == [fingerprint(Source(config.root)), before]


def test_policy_file_change_rebuilds(config, database) -> None:
    load_directory(config.root, database).close()
    config.policy(
        "ci-deploy",
        '{"Version": "2012-10-17", "Statement": '
        '[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}',
    )
    directory = load_directory(config.root, database)
    role = directory.role("444444444445", "ci-deploy")
    assert role.permission_policies[0]["Statement"][0]["Action"] == "s3:GetObject"
    directory.close()


def test_invalid_config_is_refused_and_stores_nothing(config, database) -> None:
    good = load_directory(config.root, database)
    stored = SqlDirectorySnapshots(database).content(
        fingerprint(Source(config.root)), SCHEMA_VERSION
    )
    config.replace("groups.toml", 'members = ["dave"]', 'members = ["dave", "support"]')
    with pytest.raises(InvalidDirectoryError) as caught:
        load_directory(config.root, database)
    assert "contains group 'support'" in str(caught.value)
    assert "broker directory validate" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert len(_stored(database)) == 1
    assert SqlDirectorySnapshots(database).fingerprints() == [fingerprint_of_stored(stored)]
    assert good.user("dave").name == "dave"  # what was loaded keeps serving
    good.close()


def fingerprint_of_stored(content: str | None) -> str:
    import json

    assert content is not None
    meta = dict(json.loads(content)["tables"]["meta"])
    return str(meta["fingerprint"])


def test_mfa_devices_are_stored_once_and_survive_a_new_snapshot(config, database) -> None:
    directory = load_directory(config.root, database)
    directory.add_mfa_device("alice", "phone")
    assert directory.set_mfa_last_step("alice", "phone", 100)
    directory.close()
    config.replace("users.toml", 'display_name = "Alice"', 'display_name = "Alice A."')
    directory = load_directory(config.root, database)
    assert directory.user("alice").display_name == "Alice A."
    assert directory.mfa_devices("alice") == ["phone"]
    assert not directory.set_mfa_last_step("alice", "phone", 100)  # the step stays used
    directory.close()
    with database.transaction(read_only=True) as cursor:
        cursor.execute("SELECT COUNT(*) FROM mfa_devices")
        assert cursor.fetchone() == (1,)


def test_replicas_with_different_configurations_do_not_fight(
    tmp_path, config, database, monkeypatch
) -> None:
    """A rolling deploy: A serves the old files, B the new ones, on one database. Each keeps
    its own snapshot; reopening either validates nothing and sees its own files' contents."""
    import shutil

    old = tmp_path / "old-config"
    shutil.copytree(config.root, old)
    config.replace("users.toml", 'display_name = "Bob"', 'display_name = "Bob B."')
    load_directory(old, database).close()
    load_directory(config.root, database).close()
    forget_all()
    _no_validation(monkeypatch)
    for root, name in ((old, "Bob"), (config.root, "Bob B."), (old, "Bob")):
        forget_all()
        directory = load_directory(root, database)
        assert directory.user("bob").display_name == name
        directory.close()
    assert len(_stored(database)) == 2


def test_only_the_newest_snapshots_are_kept(config, database) -> None:
    name = "Bob"
    for number in range(KEEP + 2):
        config.replace("users.toml", f'display_name = "{name}"', f'display_name = "Bob{number}"')
        name = f"Bob{number}"
        load_directory(config.root, database).close()
    stored = _stored(database)
    assert len(stored) == KEEP
    assert stored[0] == fingerprint(Source(config.root))


def test_a_pruned_snapshot_is_stored_again_from_the_process_cache(config, database) -> None:
    load_directory(config.root, database).close()
    with database.transaction() as cursor:
        cursor.execute("DELETE FROM directory_snapshots")
    load_directory(config.root, database).close()
    assert _stored(database) == [fingerprint(Source(config.root))]


def test_a_damaged_stored_snapshot_is_refused_in_one_line(config, database) -> None:
    load_directory(config.root, database).close()
    fp = fingerprint(Source(config.root))
    with database.transaction() as cursor:
        cursor.execute(
            "UPDATE directory_snapshots SET content = ? WHERE fingerprint = ?",
            ('{"schema_version": "5", "tables": {"users": []}}', fp),
        )
    forget_all()
    expected = f"is damaged; drop it with `broker directory snapshots drop {fp[:12]}`"
    with pytest.raises(DirectoryError, match=expected) as caught:
        load_directory(config.root, database)
    assert "\n" not in str(caught.value)


def test_a_snapshot_of_other_files_is_not_taken_for_this_one(config, database) -> None:
    load_directory(config.root, database).close()
    fp = fingerprint(Source(config.root))
    stored = SqlDirectorySnapshots(database).content(fp, SCHEMA_VERSION)
    assert stored is not None
    with pytest.raises(DirectoryError, match="damaged"):
        read_content(stored, "0" * 64)


def test_a_database_others_can_read_is_refused(config, data_dir) -> None:
    from broker.sts.directory_state import open_directory

    open_directory(config.root, data_dir, None).close()
    (data_dir / "broker.db").chmod(0o644)
    forget_all()
    with pytest.raises(ConfigError, match="readable by other users; run chmod 600"):
        open_directory(config.root, data_dir, None)


_LOAD = """
import sys
from pathlib import Path
from broker.sts.directory_state import open_directory
directory = open_directory(Path(sys.argv[1]), Path(sys.argv[2]), None)
print(len(directory.users()), directory.user("alice").email)
directory.close()
"""


def test_concurrent_first_loads_all_succeed_and_store_one_snapshot(config, data_dir) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _LOAD, str(config.root), str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [err for _out, err in outputs]
    assert {out for out, _err in outputs} == {"13 alice@example.com\n"}
    database = open_current(database_url(None, data_dir))
    try:
        assert _stored(database) == [fingerprint(Source(config.root))]
    finally:
        database.close()


def test_a_stored_row_of_the_wrong_width_is_refused(config, database) -> None:
    import json

    load_directory(config.root, database).close()
    fp = fingerprint(Source(config.root))
    snapshots = SqlDirectorySnapshots(database)
    content = snapshots.content(fp, SCHEMA_VERSION)
    assert content is not None
    document = json.loads(content)
    document["tables"]["users"][0] = document["tables"]["users"][0][:2]
    with pytest.raises(DirectoryError, match="damaged"):
        read_content(json.dumps(document), fp)
    assert read_content(content, fp).execute("SELECT COUNT(*) FROM users").fetchone() == (13,)


_KILLED_MIDWAY = """
import os, signal, sys
from pathlib import Path
from broker.storage.directory_snapshots import SqlDirectorySnapshots
from broker.sts.directory_state import open_directory

def store_then_die(self, fingerprint, schema_version, config_dir, content):
    with self._db.transaction() as cursor:
        cursor.execute(
            "INSERT INTO directory_snapshots "
            "(fingerprint, schema_version, built_us, config_dir, content) VALUES (?, ?, 0, ?, ?)",
            (fingerprint, schema_version, config_dir, content[: len(content) // 2]),
        )
        os.kill(os.getpid(), signal.SIGKILL)  # before the commit

SqlDirectorySnapshots.store = store_then_die
open_directory(Path(sys.argv[1]), Path(sys.argv[2]), None)
"""


def test_a_store_killed_before_its_commit_leaves_no_snapshot(config, data_dir) -> None:
    """The old snapshot (none here) stays; no half-written row is ever read; the next opener
    builds and stores the whole one."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_MIDWAY, str(config.root), str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr
    database = open_current(database_url(None, data_dir))
    try:
        assert _stored(database) == []
        directory = load_directory(config.root, database)
        assert len(directory.users()) == 13
        directory.close()
        assert _stored(database) == [fingerprint(Source(config.root))]
    finally:
        database.close()


class _CountingDatabase:
    """The state database, counting the transactions opened through it."""

    def __init__(self, inner: Database) -> None:
        self._inner = inner
        self.dialect = inner.dialect
        self.transactions = 0

    def transaction(self, **options):  # type: ignore[no-untyped-def]
        self.transactions += 1
        return self._inner.transaction(**options)

    def now(self):  # type: ignore[no-untyped-def]
        return self._inner.now()

    def close(self) -> None:
        self._inner.close()


def test_lookups_of_the_sts_request_path_never_read_the_state_database(config, database) -> None:
    """Role trust, permission policies, SCP levels and assignments come from the in-memory
    copy: after the load, they open no transaction on the state database."""
    from tests.unit.directory.conftest import demo_claims

    counting = _CountingDatabase(database)
    directory = load_directory(config.root, counting)  # type: ignore[arg-type]
    loaded = counting.transactions
    for _request in range(3):
        held = directory.assignments_of(directory.user("alice"))
        assert held
        role = directory.role(held[0].account_id, held[0].role_name)
        assert role.trust_policy
        assert directory.scp_hierarchy(held[0].account_id)
        assert directory.role("444444444445", "ci-deploy").permission_policies
        assert directory.resolve_user(demo_claims("alice")).name == "alice"
    assert counting.transactions == loaded
    directory.close()
