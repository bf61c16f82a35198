"""A fresh BROKER_HOME is created private (0700) whichever command touches it first.

Path.mkdir(parents=True, mode=0o700) gives the parents it creates 0755; the first process on a
fresh data directory then left it world-readable and every later process refused it.
"""

from __future__ import annotations

import os
import stat

import pytest

from broker.private_dirs import make_private_dirs


def _modes_below(root, top):
    out = {}
    for dirpath, _dirs, _files in os.walk(top):
        out[os.path.relpath(dirpath, root)] = stat.S_IMODE(os.lstat(dirpath).st_mode)
    return out


def test_every_missing_parent_is_created_0700(tmp_path) -> None:
    old = os.umask(0o022)
    try:
        make_private_dirs(tmp_path / "a" / "b" / "c")
    finally:
        os.umask(old)
    modes = _modes_below(tmp_path, tmp_path / "a")
    assert modes == {"a": 0o700, "a/b": 0o700, "a/b/c": 0o700}


def test_existing_directories_are_left_alone(tmp_path) -> None:
    (tmp_path / "shared").mkdir(mode=0o755)
    os.chmod(tmp_path / "shared", 0o755)
    make_private_dirs(tmp_path / "shared" / "mine")
    assert stat.S_IMODE(os.lstat(tmp_path / "shared").st_mode) == 0o755
    assert stat.S_IMODE(os.lstat(tmp_path / "shared" / "mine").st_mode) == 0o700


@pytest.mark.parametrize(
    "command",
    [
        ("directory", "show"),  # the directory's SQLite store
        ("keys", "list"),  # the STS signing keys
        ("sts", "revoke", "--user", "alice"),  # revocations and the audit log
    ],
)
def test_first_command_on_a_fresh_home_leaves_it_private(tmp_path, run_broker, command) -> None:
    home = tmp_path / "fresh" / "home"
    result = run_broker(*command, env={"BROKER_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    modes = _modes_below(tmp_path, tmp_path / "fresh")
    assert modes["fresh/home"] == 0o700, modes
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes
