"""A counter beside the SQLite database that moves whenever state that readers cache is written.

Revocations and access keys are read on nearly every STS request; ``StateCache`` keeps them in
the process while this counter stands still, which costs a ``stat`` and an 8-byte read of a
shared mapping instead of a query. The counter is the file ``<database>.changes``: 8 bytes of
counter, then 8 random bytes naming the file (a file removed and made again starts over with
another name, so a count seen on the old one is never taken for the new one's).

It works like a sequence lock. A writer that may change cached state, holding the database's
write lock (``BEGIN IMMEDIATE``) and its writers' queue, makes the counter odd before it
commits and even again after the commit (or rollback). A reader trusts a cached value only
while the counter is even and equal to the one read before that value was loaded, so a value
is never cached from a read that a writer overlapped. A writer killed between the two steps
leaves the counter odd: readers then read the database every time (never a stale answer)
until the next writer moves it on.
"""

from __future__ import annotations

import mmap
import os
import secrets
import struct
import threading
from pathlib import Path

from broker.errors import ConfigError

__all__ = ["ChangeCounter"]

_SIZE = 16
_LAYOUT = struct.Struct("<QQ")  # counter, the file's random name


class ChangeCounter:
    """The counter file of one SQLite database, mapped once per process (thread-safe)."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".changes")
        self._lock = threading.Lock()
        self._map: mmap.mmap | None = None
        self._file: tuple[int, int] | None = None  # (st_dev, st_ino) of the mapped file

    def version(self) -> tuple[int, int] | None:
        """(the file's name, the count) when no writer of cached state is between its two
        steps; None when one is (or died there), or the file is not readable yet."""
        with self._lock:
            mapped = self._mapped(create=False)
            if mapped is None:
                return None
            count, name = _LAYOUT.unpack_from(mapped)
        if count % 2 or name == 0:
            return None
        return (name, count)

    def begin(self) -> None:
        """Make the counter odd: a writer of cached state is about to commit. The caller holds
        the database's write lock and its writers' queue, so writers step it one at a time."""
        with self._lock:
            mapped = self._mapped(create=True)
            if mapped is None:
                raise ConfigError(f"cannot map the database's change counter {self.path}")
            count, name = _LAYOUT.unpack_from(mapped)
            _LAYOUT.pack_into(mapped, 0, count + (1 if count % 2 == 0 else 2), name)

    def end(self) -> None:
        """Make the counter even again: the writer's transaction is over (committed or not).
        An even count (the file was replaced since ``begin``) still moves on, by two."""
        with self._lock:
            mapped = self._mapped(create=True)
            if mapped is None:
                raise ConfigError(f"cannot map the database's change counter {self.path}")
            count, name = _LAYOUT.unpack_from(mapped)
            _LAYOUT.pack_into(mapped, 0, count + (1 if count % 2 else 2), name)

    def close(self) -> None:
        with self._lock:
            if self._map is not None:
                self._map.close()
            self._map, self._file = None, None

    def _mapped(self, *, create: bool) -> mmap.mmap | None:
        """The mapping of the file now at ``path`` (mapped again if the file was replaced);
        called with ``_lock`` held, so no thread uses a mapping another one is replacing."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            if not create:
                return None
            self._make()
            info = os.stat(self.path)
        except OSError as exc:
            raise ConfigError(
                f"cannot read the database's change counter {self.path}: {exc}"
            ) from None
        if self._map is not None and self._file == (info.st_dev, info.st_ino):
            return self._map
        if info.st_size < _SIZE:
            return None  # its maker has not written it yet
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(
                f"cannot open the database's change counter {self.path}: {exc}"
            ) from None
        try:
            opened = os.fstat(fd)
            if opened.st_size < _SIZE:
                return None
            if self._map is not None:
                self._map.close()
            self._map = mmap.mmap(fd, _SIZE)
            self._file = (opened.st_dev, opened.st_ino)
        finally:
            os.close(fd)
        return self._map

    def _make(self) -> None:
        """Create the file whole: written under a temporary name, then linked into place (an
        existing file wins), so no process ever maps a half-written one."""
        draft = self.path.with_name(f"{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, _LAYOUT.pack(0, secrets.randbits(63) | 1))
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(draft, self.path)
            except FileExistsError:
                pass
        except OSError as exc:
            raise ConfigError(
                f"cannot create the database's change counter {self.path}: {exc}"
            ) from None
        finally:
            try:
                os.unlink(draft)
            except FileNotFoundError:
                pass
