"""Cross-process locks (flock) and the replay cache, with real processes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.errors import StoreError
from broker.store.locking import named_lock
from broker.store.replay import SqliteReplayCache

CTX = multiprocessing.get_context("fork")


def _hold(locks: str, ready: str, seconds: float) -> None:
    with named_lock(Path(locks), "profile", "dev"):
        Path(ready).write_text("held")
        time.sleep(seconds)


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_held_lock_times_out_with_a_clear_error(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    holder = CTX.Process(target=_hold, args=(str(tmp_path / "locks"), str(ready), 5))
    holder.start()
    try:
        _wait_for(ready)
        with pytest.raises(StoreError, match="another broker process has held the profile lock"):
            with named_lock(tmp_path / "locks", "profile", "dev", timeout=0.3):
                pass
        with named_lock(tmp_path / "locks", "profile", "other", timeout=0.3):
            pass  # other names are independent
    finally:
        holder.kill()
        holder.join()


def test_the_kernel_releases_the_lock_of_a_killed_holder(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    holder = CTX.Process(target=_hold, args=(str(tmp_path / "locks"), str(ready), 60))
    holder.start()
    _wait_for(ready)
    assert holder.pid is not None
    os.kill(holder.pid, signal.SIGKILL)
    holder.join()
    started = time.monotonic()
    with named_lock(tmp_path / "locks", "profile", "dev", timeout=5):
        pass
    assert time.monotonic() - started < 2
    lock_file = next((tmp_path / "locks").iterdir())
    assert lock_file.stat().st_mode & 0o777 == 0o600


def test_replay_cache_accepts_once_until_expiry(tmp_path: Path) -> None:
    cache = SqliteReplayCache(tmp_path)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    assert cache.add_once("saml", "_id1", soon) is True
    assert cache.add_once("saml", "_id1", soon) is False
    assert cache.add_once("other", "_id1", soon) is True
    past = datetime.now(UTC) - timedelta(seconds=1)
    assert cache.add_once("saml", "_old", past) is True
    assert cache.add_once("saml", "_old", soon) is True  # the expired record no longer counts
    assert (tmp_path / "replay.sqlite3").stat().st_mode & 0o777 == 0o600


def _race(directory: str, out: str) -> None:
    accepted = SqliteReplayCache(Path(directory)).add_once(
        "saml", "_same", datetime.now(UTC) + timedelta(minutes=5)
    )
    Path(out).write_text("1" if accepted else "0")


def test_replay_cache_accepts_a_value_once_across_processes(tmp_path: Path) -> None:
    SqliteReplayCache(tmp_path)
    procs = [
        CTX.Process(target=_race, args=(str(tmp_path), str(tmp_path / f"r{i}"))) for i in range(12)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    results = sorted((tmp_path / f"r{i}").read_text() for i in range(12))
    assert results == ["0"] * 11 + ["1"]


def test_world_readable_replay_cache_is_refused(tmp_path: Path) -> None:
    SqliteReplayCache(tmp_path)
    (tmp_path / "replay.sqlite3").chmod(0o644)
    with pytest.raises(StoreError, match="chmod 600"):
        SqliteReplayCache(tmp_path)
