"""One cross-process lock per name (profile or provider session), with ``flock``.

The kernel releases a ``flock`` when its holder dies (even by ``kill -9``), so a crashed
refresh never wedges the others. Callers re-check the cache after taking the lock: N helpers
started at once cause one refresh, and the rest read what it stored.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

from broker.errors import StoreError
from broker.private_files import PrivateFiles

__all__ = ["named_lock", "wait_or_hold"]

T = TypeVar("T")
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC

_files = PrivateFiles(StoreError)

# Locks this thread holds, by lock path. ``flock`` is per open file, so taking a lock this
# thread already holds through a second descriptor would wait for itself forever: a nested
# ``named_lock`` of a held name is a no-op instead. Per thread, not per process: two threads
# of one process (serve-credentials, the TUI's workers) must still exclude each other, and
# their separate descriptors do.
_local = threading.local()
_kept = ExitStack()  # locks held until the process ends (``wait_or_hold``)


def _held() -> set[Path]:
    held: set[Path] | None = getattr(_local, "held", None)
    if held is None:
        held = _local.held = set()
    return held


def _guarded(locks_dir: Path, kind: str, name: str) -> Path:
    """The lock's name, through the real path of ``locks_dir`` (two spellings of one data
    directory must find one held lock)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return Path(os.path.realpath(locks_dir)) / f"{kind}-{safe}"


@contextmanager
def named_lock(locks_dir: Path, kind: str, name: str, *, timeout: float = 120.0) -> Iterator[None]:
    """Hold the exclusive lock for ``kind``/``name`` (``locks_dir/KIND-NAME.lock``).

    Raises:
        StoreError: the lock file is not private, or another process held it past ``timeout``.
    """
    guarded = _guarded(locks_dir, kind, name)
    if guarded in _held():
        yield
        return
    with _files.locked(guarded, timeout=timeout, what=f"the {kind} lock for {name!r}"):
        _held().add(guarded)
        try:
            yield
        finally:
            _held().discard(guarded)


def wait_or_hold(
    locks_dir: Path,
    kind: str,
    name: str,
    recheck: Callable[[], T | None],
    *,
    timeout: float = 120.0,
) -> T | None:
    """``recheck()``'s answer once no other process holds the lock for ``kind``/``name``; or,
    when it still has none, None with the lock taken and kept until this process ends (a
    later ``named_lock`` of it in this thread goes straight in).

    Why: ``credential-process`` calls this on a cache miss before loading the full command.
    Of N processes started on a cold cache, one takes the lock and mints; the others wait with
    a *shared* hold, so when the minter is done they all wake at once and read what it stored
    side by side, without each paying for the imports of a mint first.

    Raises:
        StoreError: the lock file is not private, or another process held it past ``timeout``.
    """
    guarded = _guarded(locks_dir, kind, name)
    if guarded in _held():
        return recheck()
    lock = guarded.with_name(guarded.name + ".lock")
    _files.ensure_dir(lock.parent)
    try:
        fd: int | None = os.open(lock, os.O_RDWR | os.O_CREAT | _OPEN_FLAGS, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open lock {lock}: {exc.strerror}") from None
    assert fd is not None
    what = f"the {kind} lock for {name!r}"
    try:
        _files.check(lock, os.fstat(fd), directory=False)
        deadline = time.monotonic() + timeout
        if not _try_flock(fd, fcntl.LOCK_EX):
            _wait_flock(fd, fcntl.LOCK_SH, deadline, lock, what)
            found = recheck()
            if found is not None:
                return found
            _wait_flock(fd, fcntl.LOCK_EX, deadline, lock, what)  # drops the shared hold first
        found = recheck()
        if found is not None:
            return found
        _kept.callback(os.close, fd)
        _held().add(guarded)
        fd = None
        return None
    finally:
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


def _try_flock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_flock(fd: int, mode: int, deadline: float, lock: Path, what: str) -> None:
    delay = 0.002
    while not _try_flock(fd, mode):
        if time.monotonic() >= deadline:
            raise StoreError(
                f"another broker process has held {what} for too long; retry, or find it "
                f"with `fuser {lock}`"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.025)
