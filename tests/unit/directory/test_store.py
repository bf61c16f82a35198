"""The SQLite store: rebuilt when the config changes, atomically, keeping runtime state."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from broker.directory import InvalidDirectoryError, load_directory
from broker.directory.database import database_path, stored_fingerprint
from broker.directory.source import Source, fingerprint
from broker.errors import DirectoryError
from tests.conftest import REPO
from tests.waiting import wait_until


def test_database_is_private_and_reused_while_config_is_unchanged(config, data_dir) -> None:
    load_directory(config.root, data_dir=data_dir).close()
    path = database_path(data_dir)
    assert path.stat().st_mode & 0o777 == 0o600
    inode = path.stat().st_ino
    load_directory(config.root, data_dir=data_dir).close()
    assert path.stat().st_ino == inode  # not rebuilt


def test_config_change_rebuilds(config, data_dir) -> None:
    load_directory(config.root, data_dir=data_dir).close()
    config.replace("groups.toml", 'members = ["mallory"]', 'members = ["mallory", "oscar"]')
    directory = load_directory(config.root, data_dir=data_dir)
    assert directory.user("oscar").groups == ("contractors",)
    assert stored_fingerprint(database_path(data_dir)) == fingerprint(Source(config.root))
    directory.close()


def test_policy_file_change_rebuilds(config, data_dir) -> None:
    load_directory(config.root, data_dir=data_dir).close()
    config.policy(
        "ci-deploy",
        '{"Version": "2012-10-17", "Statement": '
        '[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}',
    )
    directory = load_directory(config.root, data_dir=data_dir)
    role = directory.role("444444444445", "ci-deploy")
    assert role.permission_policies[0]["Statement"][0]["Action"] == "s3:GetObject"
    directory.close()


def test_invalid_config_is_refused_and_the_good_database_kept(config, data_dir) -> None:
    load_directory(config.root, data_dir=data_dir).close()
    before = database_path(data_dir).read_bytes()
    config.replace("groups.toml", 'members = ["dave"]', 'members = ["dave", "support"]')
    with pytest.raises(InvalidDirectoryError) as caught:
        load_directory(config.root, data_dir=data_dir)
    assert "contains group 'support'" in str(caught.value)
    assert "broker directory validate" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert database_path(data_dir).read_bytes() == before


def test_mfa_devices_survive_a_rebuild(config, data_dir) -> None:
    directory = load_directory(config.root, data_dir=data_dir)
    directory.add_mfa_device("alice", "phone")
    directory.close()
    config.replace("users.toml", 'display_name = "Alice"', 'display_name = "Alice A."')
    directory = load_directory(config.root, data_dir=data_dir)
    assert directory.user("alice").display_name == "Alice A."
    assert directory.mfa_devices("alice") == ["phone"]
    directory.close()


_BUILD = """
import sys
from pathlib import Path
from broker.directory import load_directory
print("start", flush=True)
load_directory(Path(sys.argv[1]), data_dir=Path(sys.argv[2])).close()
print("done", flush=True)
"""


def test_a_build_killed_midway_never_replaces_the_good_database(tmp_path, data_dir) -> None:
    """SIGKILL a rebuild of a large config: afterwards the database is the old or the new one,
    whole, and it loads."""
    sys.path.insert(0, str(REPO))
    from bench.directory import generate

    small = generate(
        tmp_path / "small",
        users=50,
        groups=10,
        accounts=10,
        ous=3,
        permission_sets=5,
        assignments=100,
    )
    load_directory(small, data_dir=data_dir).close()
    old = stored_fingerprint(database_path(data_dir))
    big = generate(
        tmp_path / "big",
        users=20000,
        groups=500,
        accounts=100,
        ous=10,
        permission_sets=20,
        assignments=20000,
    )
    new = fingerprint(Source(big))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _BUILD, str(big), str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "start\n"
    # Midway: the new database's transaction is open (its rollback journal exists).
    final = database_path(data_dir)
    journal = final.with_name(f"{final.name}.{proc.pid}.tmp-journal")
    wait_until(journal.exists, "the rebuild's transaction to open")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    path = database_path(data_dir)
    assert stored_fingerprint(path) in (old, new)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    # The next load finishes the job.
    directory = load_directory(big, data_dir=data_dir)
    assert stored_fingerprint(path) == new
    assert len(directory.users()) == 20000
    directory.close()


@pytest.mark.parametrize("target", ["file", "dir"])
def test_a_database_others_can_read_is_refused(config, data_dir, target) -> None:
    load_directory(config.root, data_dir=data_dir).close()
    path = database_path(data_dir) if target == "file" else data_dir
    path.chmod(0o644 if target == "file" else 0o777)
    with pytest.raises(DirectoryError, match="accessible to other users; run `chmod go-rwx"):
        load_directory(config.root, data_dir=data_dir)


def test_runtime_write_through_a_stale_handle_lands_in_the_current_database(
    config, data_dir
) -> None:
    stale = load_directory(config.root, data_dir=data_dir)
    config.replace("users.toml", 'display_name = "Bob"', 'display_name = "Bob B."')
    fresh = load_directory(config.root, data_dir=data_dir)  # rebuilt: a new file
    stale.add_mfa_device("bob", "phone")
    assert fresh.mfa_devices("bob") == ["phone"]
    config.replace("users.toml", 'display_name = "Bob B."', 'display_name = "Bob C."')
    load_directory(config.root, data_dir=data_dir).close()
    again = load_directory(config.root, data_dir=data_dir)
    assert again.mfa_devices("bob") == ["phone"]
    for directory in (stale, fresh, again):
        directory.close()


def test_lock_wait_is_bounded(data_dir) -> None:
    import fcntl

    from broker.directory.database import exclusive_lock

    holder = os.open(data_dir / "directory.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another process's lock, as flock sees it
    try:
        start = time.monotonic()
        with pytest.raises(DirectoryError, match=r"held .*directory.lock for 0 s; retry"):
            with exclusive_lock(data_dir, timeout=0.2):
                pass
        assert time.monotonic() - start < 5
    finally:
        os.close(holder)
    with exclusive_lock(data_dir, timeout=0.2):  # free again once the holder is gone
        pass


_LOAD = """
import os, sys
from pathlib import Path
from broker.directory import load_directory
directory = load_directory(Path(sys.argv[1]), data_dir=Path(sys.argv[2]))
print(len(directory.users()), os.stat(directory.path).st_ino)
"""


def test_concurrent_first_loads_build_once_and_all_succeed(config, data_dir) -> None:
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
    answers = {out.strip() for out, _err in outputs}
    assert len(answers) == 1  # same users, same database file: built once
    assert answers.pop().startswith("13 ")
    assert not list(data_dir.glob("*.tmp"))
