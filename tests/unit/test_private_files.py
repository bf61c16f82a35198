"""The one private-file module, for every caller's error branch: the attacks it must refuse.

Store (``StoreError``), STS (``ConfigError``) and the embedded IdP (``ProviderError``) each
get their own error class; the rules are the same for all three.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from broker.errors import BrokerError, ConfigError, ProviderError, StoreError
from broker.private_files import PrivateFiles

ERRORS = [StoreError, ConfigError, ProviderError]


@pytest.fixture(params=ERRORS, ids=lambda e: e.__name__)
def error(request: pytest.FixtureRequest) -> type[BrokerError]:
    return request.param


def test_write_creates_0600_file_in_0700_directories(tmp_path: Path, error) -> None:
    files = PrivateFiles(error)
    target = tmp_path / "a" / "b" / "index.json"
    files.write_bytes(target, b"{}")
    assert target.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700
    assert files.read_bytes(target) == b"{}"
    assert [p.name for p in target.parent.iterdir()] == ["index.json"]  # no temp file left


def test_json_round_trip_and_default(tmp_path: Path, error) -> None:
    files = PrivateFiles(error)
    path = tmp_path / "keys.json"
    assert files.read_json(path, []) == []
    files.write_json(path, {"b": 1, "a": [2]})
    assert files.read_json(path, None) == {"a": [2], "b": 1}
    path.write_bytes(b"{not json")
    with pytest.raises(error, match="not valid JSON; delete it"):
        files.read_json(path, None, fix="delete it")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o620])
def test_group_or_world_accessible_file_is_refused_with_the_chmod_fix(
    tmp_path: Path, error, mode: int
) -> None:
    files = PrivateFiles(error)
    target = tmp_path / "index.json"
    target.write_text("{}")
    target.chmod(mode)
    for attempt in (files.read_bytes, files.exists, lambda p: files.read_json(p, None)):
        with pytest.raises(error) as caught:
            attempt(target)
        message = str(caught.value)
        assert f"chmod 600 {target}" in message and "\n" not in message


def test_open_directory_is_refused_with_the_chmod_fix(tmp_path: Path, error) -> None:
    directory = tmp_path / "store"
    directory.mkdir()
    directory.chmod(0o755)
    with pytest.raises(error, match=f"chmod 700 {directory}"):
        PrivateFiles(error).ensure_dir(directory)
    with pytest.raises(error, match="chmod 700"):
        PrivateFiles(error).write_bytes(directory / "x.json", b"{}")


def test_symlink_planted_at_the_path_is_refused(tmp_path: Path, error) -> None:
    # Another user (or a bug) points our file at theirs: we must neither read it nor write
    # through it, even when the target itself looks private.
    files = PrivateFiles(error)
    real = tmp_path / "elsewhere"
    real.write_text('{"planted": true}')
    real.chmod(0o600)
    link = tmp_path / "index.json"
    link.symlink_to(real)
    with pytest.raises(error, match="symlink"):
        files.read_bytes(link)
    with pytest.raises(error, match="symlink"):
        files.exists(link)
    with pytest.raises(error, match="symlink"):
        files.read_json(link, None)
    files.write_bytes(link, b"ours")  # the rename replaces the link itself
    assert real.read_text() == '{"planted": true}'
    assert not link.is_symlink() and link.read_bytes() == b"ours"


def test_symlinked_lock_file_is_refused(tmp_path: Path, error) -> None:
    real = tmp_path / "elsewhere"
    real.write_text("")
    real.chmod(0o600)
    (tmp_path / "keys.json.lock").symlink_to(real)
    with pytest.raises(error), PrivateFiles(error).locked(tmp_path / "keys.json"):
        pass


def test_symlinked_directory_is_refused(tmp_path: Path, error) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    (tmp_path / "store").symlink_to(real)
    with pytest.raises(error, match="not a plain directory"):
        PrivateFiles(error).ensure_dir(tmp_path / "store")


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_foreign_owned_file_is_refused(tmp_path: Path, error) -> None:
    target = tmp_path / "index.json"
    target.write_text("{}")
    target.chmod(0o600)
    os.chown(target, 4321, -1)
    with pytest.raises(error, match="owned by another user"):
        PrivateFiles(error).read_bytes(target)


_KILLED_BEFORE_RENAME = """
import os, signal, sys
from pathlib import Path
from broker.errors import StoreError
from broker.private_files import PrivateFiles

def die(*_args):  # the moment after the temp file is written and fsynced
    os.kill(os.getpid(), signal.SIGKILL)

os.replace = die
PrivateFiles(StoreError).write_bytes(Path(sys.argv[1]), b"new content")
"""


def test_a_kill_between_write_and_rename_leaves_the_old_content(tmp_path: Path) -> None:
    files = PrivateFiles(StoreError)
    target = tmp_path / "index.json"
    files.write_bytes(target, b"old content")
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_BEFORE_RENAME, str(target)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -9, child.stderr.decode()
    assert files.read_bytes(target) == b"old content"
    leftovers = [p for p in tmp_path.iterdir() if p.name != "index.json"]
    assert len(leftovers) == 1 and leftovers[0].read_bytes() == b"new content"  # only a temp
    files.write_bytes(target, b"next")  # a later write is not disturbed by the leftover
    assert files.read_bytes(target) == b"next"


def test_locked_serialises_read_modify_write_across_threads(tmp_path: Path) -> None:
    files = PrivateFiles(ConfigError)
    path = tmp_path / "counter.json"
    files.write_json(path, 0)

    def bump() -> None:
        for _ in range(20):
            with files.locked(path):
                value = files.read_json(path, 0)
                time.sleep(0.0005)
                files.write_json(path, value + 1)

    workers = [threading.Thread(target=bump) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert files.read_json(path, 0) == 80
    assert (tmp_path / "counter.json.lock").stat().st_mode & 0o777 == 0o600


def test_locked_with_timeout_names_what_is_held(tmp_path: Path) -> None:
    files = PrivateFiles(StoreError)
    path = tmp_path / "profile-x"
    with (
        files.locked(path),
        pytest.raises(StoreError, match=r"has held the profile lock for 'x' for 0 s.*fuser"),
        files.locked(path, timeout=0.05, what="the profile lock for 'x'"),
    ):
        pass
