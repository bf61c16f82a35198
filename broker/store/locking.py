"""One cross-process lock per name (profile or provider session), with ``flock``.

The kernel releases a ``flock`` when its holder dies (even by ``kill -9``), so a crashed
refresh never wedges the others. Callers re-check the cache after taking the lock: N helpers
started at once cause one refresh, and the rest read what it stored.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from broker.errors import StoreError
from broker.store.files import check_private, ensure_private_dir

__all__ = ["named_lock"]


def _lock_file(locks_dir: Path, kind: str, name: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return locks_dir / f"{kind}-{safe}.lock"


@contextmanager
def named_lock(locks_dir: Path, kind: str, name: str, *, timeout: float = 120.0) -> Iterator[None]:
    """Hold the exclusive lock for ``kind``/``name`` for the ``with`` block.

    Raises:
        StoreError: the lock file is not private, or another process held it past ``timeout``.
    """
    ensure_private_dir(locks_dir)
    path = _lock_file(locks_dir, kind, name)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise StoreError(f"cannot open lock {path}: {exc.strerror}") from None
    try:
        check_private(path, os.fstat(fd), directory=False)
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"another broker process has held the {kind} lock for {name!r} for "
                        f"{timeout:.0f} s; retry, or find it with `fuser {path}`"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
