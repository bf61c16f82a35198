"""Private files: 0700 directories and 0600 files of ours, replaced atomically, under flock.

Why one module: the client store (index, locks), STS (signing keys, access keys, revocations)
and the embedded IdP (refresh-token hashes, published keys) all keep files no one else may
read or plant, and docs/security.md's rules for them must hold the same everywhere: refuse a path
that is a symlink or not the expected kind, owned by another user, or open to group/others
(naming the ``chmod`` that fixes it); write to a fresh temp file in the same directory, fsync
it, rename it over the old one and fsync the directory, so a crash leaves the old content or
the new, never a mix; serialise read-modify-write with ``flock``, which the kernel releases
when its holder dies.

Each area keeps its own error branch: ``PrivateFiles(StoreError)``, ``PrivateFiles(ConfigError)``
and ``PrivateFiles(ProviderError)`` raise what their callers already handle. Lives beside
``broker.private_dirs`` (not under ``broker.store``) so ``providers`` may use it too.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from broker.errors import BrokerError
from broker.private_dirs import make_private_dirs

__all__ = ["PrivateFiles"]

_OPEN_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC


class PrivateFiles:
    """The private-file rules, raising ``error(message)`` (one line, no secret) on a breach.

    Args:
        error: the caller's ``BrokerError`` branch (a class taking the message).
    """

    def __init__(self, error: Callable[[str], BrokerError]) -> None:
        self._error = error

    # -- checks ----------------------------------------------------------------------------

    def check(self, path: Path, st: os.stat_result, *, directory: bool) -> None:
        """Refuse ``path`` (described by ``st``, from ``lstat``/``fstat``) unless it is ours,
        of the expected kind, and closed to group and others."""
        kind = "directory" if directory else "file"
        right_kind = stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)
        if stat.S_ISLNK(st.st_mode) or not right_kind:
            raise self._error(f"{path} is not a plain {kind} (a symlink?); remove it and retry")
        if st.st_uid != os.geteuid():
            raise self._error(
                f"{path} is owned by another user (uid {st.st_uid}); refusing to use it"
            )
        if st.st_mode & 0o077:
            mode = f"{stat.S_IMODE(st.st_mode):o}"
            want = "700" if directory else "600"
            raise self._error(
                f"{path} is readable or writable by other users (mode {mode}); "
                f"run `chmod {want} {path}` and retry"
            )

    def ensure_dir(self, path: Path) -> Path:
        """Create ``path`` (and missing parents) 0700, then check it is private."""
        try:
            make_private_dirs(path)
            st = os.lstat(path)
        except OSError as exc:
            raise self._error(f"cannot create {path}: {exc.strerror}") from None
        self.check(path, st, directory=True)
        return path

    def exists(self, path: Path) -> bool:
        """True if ``path`` is a private file of ours, False if absent; anything else refused."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._error(f"cannot inspect {path}: {exc.strerror}") from None
        self.check(path, st, directory=False)
        return True

    # -- reading ---------------------------------------------------------------------------

    def read_bytes(self, path: Path) -> bytes | None:
        """The contents of ``path``, or None if absent (checked on the open descriptor, so a
        file swapped in after a check is never read)."""
        try:
            fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
        except FileNotFoundError:
            return None
        except OSError as exc:  # ELOOP: a symlink planted at the path
            raise self._error(
                f"cannot read {path}: {exc.strerror} (a symlink?); remove it and retry"
            ) from None
        with os.fdopen(fd, "rb") as handle:
            self.check(path, os.fstat(fd), directory=False)
            return handle.read()

    def read_json(self, path: Path, default: Any, *, fix: str = "restore it from a backup") -> Any:
        """The JSON document in ``path`` (``default`` when absent); ``fix`` says what to do
        with a file that is not JSON."""
        data = self.read_bytes(path)
        if data is None:
            return default
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise self._error(f"{path} is not valid JSON; {fix}") from None

    # -- writing ---------------------------------------------------------------------------

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Replace ``path`` with ``data``: fresh 0600 temp file, fsync, rename, fsync dir."""
        self.ensure_dir(path.parent)
        try:
            fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        except OSError as exc:
            raise self._error(f"cannot write {path}: {exc.strerror}") from None
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)
            dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise self._error(f"cannot write {path}: {exc.strerror}") from None

    def write_json(self, path: Path, document: Any) -> None:
        """``write_bytes`` of ``document`` as JSON (sorted keys, so rewrites are stable)."""
        self.write_bytes(path, json.dumps(document, indent=1, sort_keys=True).encode())

    # -- locking ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(
        self, guarded: Path, *, timeout: float | None = None, what: str | None = None
    ) -> Iterator[None]:
        """Hold the exclusive ``flock`` guarding ``guarded`` for the ``with`` block.

        Args:
            guarded: the file (or name) the lock stands for; the lock itself is the sibling
                ``<name>.lock``, created 0600 and refused if not private.
            timeout: give up after this many seconds (None: wait as long as it takes).
            what: what the lock guards, for the timeout message.
        """
        lock = guarded.with_name(guarded.name + ".lock")
        self.ensure_dir(lock.parent)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | _OPEN_FLAGS, 0o600)
        except OSError as exc:
            raise self._error(f"cannot open lock {lock}: {exc.strerror}") from None
        try:
            self.check(lock, os.fstat(fd), directory=False)
            if timeout is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                self._wait(fd, lock, timeout, what or str(lock))
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def _wait(self, fd: int, lock: Path, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise self._error(
                        f"another broker process has held {what} for {timeout:.0f} s; "
                        f"retry, or find it with `fuser {lock}`"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
