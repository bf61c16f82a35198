"""One cross-process lock per name (profile or provider session), with ``flock``.

The kernel releases a ``flock`` when its holder dies (even by ``kill -9``), so a crashed
refresh never wedges the others. Callers re-check the cache after taking the lock: N helpers
started at once cause one refresh, and the rest read what it stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from broker.errors import StoreError
from broker.private_files import PrivateFiles

__all__ = ["hold_until_exit", "named_lock"]

_files = PrivateFiles(StoreError)

# Locks this process holds, by lock path. ``flock`` is per open file, so taking a lock this
# process already holds through a second descriptor would wait for itself forever: a nested
# ``named_lock`` of a held name is a no-op instead.
_held: set[Path] = set()
_kept = ExitStack()  # locks held until the process ends (``hold_until_exit``)


def _guarded(locks_dir: Path, kind: str, name: str) -> Path:
    """The lock's name, through the real path of ``locks_dir`` (two spellings of one data
    directory must find one held lock)."""
    import os

    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
    return Path(os.path.realpath(locks_dir)) / f"{kind}-{safe}"


@contextmanager
def named_lock(locks_dir: Path, kind: str, name: str, *, timeout: float = 120.0) -> Iterator[None]:
    """Hold the exclusive lock for ``kind``/``name`` (``locks_dir/KIND-NAME.lock``).

    Raises:
        StoreError: the lock file is not private, or another process held it past ``timeout``.
    """
    guarded = _guarded(locks_dir, kind, name)
    if guarded in _held:
        yield
        return
    with _files.locked(guarded, timeout=timeout, what=f"the {kind} lock for {name!r}"):
        _held.add(guarded)
        try:
            yield
        finally:
            _held.discard(guarded)


def hold_until_exit(locks_dir: Path, kind: str, name: str, *, timeout: float = 120.0) -> None:
    """Take the lock for ``kind``/``name`` and keep it until this process ends (the kernel
    releases it then); a later ``named_lock`` of it here goes straight in.

    Why: ``credential-process`` waits for the profile's lock before loading the full command,
    so of N processes started on a cold cache one mints and the others, woken one by one, read
    what it stored without each paying for the imports of a mint first.

    Raises:
        StoreError: as ``named_lock``.
    """
    guarded = _guarded(locks_dir, kind, name)
    if guarded in _held:
        return
    _kept.enter_context(
        _files.locked(guarded, timeout=timeout, what=f"the {kind} lock for {name!r}")
    )
    _held.add(guarded)
