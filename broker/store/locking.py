"""One cross-process lock per name (profile or provider session), with ``flock``.

The kernel releases a ``flock`` when its holder dies (even by ``kill -9``), so a crashed
refresh never wedges the others. Callers re-check the cache after taking the lock: N helpers
started at once cause one refresh, and the rest read what it stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from broker.errors import StoreError
from broker.private_files import PrivateFiles

__all__ = ["named_lock"]

_files = PrivateFiles(StoreError)


@contextmanager
def named_lock(locks_dir: Path, kind: str, name: str, *, timeout: float = 120.0) -> Iterator[None]:
    """Hold the exclusive lock for ``kind``/``name`` (``locks_dir/KIND-NAME.lock``).

    Raises:
        StoreError: the lock file is not private, or another process held it past ``timeout``.
    """
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    with _files.locked(
        locks_dir / f"{kind}-{safe}", timeout=timeout, what=f"the {kind} lock for {name!r}"
    ):
        yield
