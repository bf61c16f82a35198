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

Reading is on every STS request, from many threads: it takes no lock and makes one ``fstat`` of
the mapped file's descriptor (kept open with its mapping). A link count of zero means the path
no longer names that file (removed, or replaced by a rename), and the path is looked up again.
A replaced mapping is kept open until ``close``: a reader may still hold it, and closing its
descriptor could hand the number to another file.
"""

from __future__ import annotations

import mmap
import os
import secrets
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from broker.errors import ConfigError

__all__ = ["ChangeCounter"]

_SIZE = 16
_LAYOUT = struct.Struct("<QQ")  # counter, the file's random name


@dataclass(frozen=True)
class _Mapping:
    """One counter file as mapped: its open descriptor, the mapping, its (st_dev, st_ino)."""

    fd: int
    view: mmap.mmap
    file: tuple[int, int]


class ChangeCounter:
    """The counter file of one SQLite database, mapped once per process (thread-safe)."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".changes")
        self._lock = threading.Lock()  # held by writers and by readers that (re)map
        self._current: _Mapping | None = None
        self._replaced: list[_Mapping] = []

    def version(self) -> tuple[int, int] | None:
        """(the file's name, the count) when no writer of cached state is between its two
        steps; None when one is (or died there), or the file is not readable yet."""
        current = self._current
        if current is not None:
            try:
                if os.fstat(current.fd).st_nlink > 0:
                    return _readable(*_LAYOUT.unpack_from(current.view))
            except (OSError, ValueError):  # closed meanwhile by ``close``: look again
                pass
        with self._lock:
            mapped = self._mapped(create=False)
            if mapped is None:
                return None
            return _readable(*_LAYOUT.unpack_from(mapped))

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
            mappings = [*self._replaced, *([self._current] if self._current else [])]
            self._current, self._replaced = None, []
            for mapping in mappings:
                mapping.view.close()  # before the descriptor: a late reader gets ValueError
                os.close(mapping.fd)

    def _mapped(self, *, create: bool) -> mmap.mmap | None:
        """The mapping of the file now at ``path`` (mapped again if the file was replaced);
        called with ``_lock`` held, so no two threads map at once."""
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
        current = self._current
        if current is not None and current.file == (info.st_dev, info.st_ino):
            return current.view
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
                os.close(fd)
                return None
            view = mmap.mmap(fd, _SIZE)
        except BaseException:
            os.close(fd)
            raise
        if current is not None:
            self._replaced.append(current)
        self._current = _Mapping(fd, view, (opened.st_dev, opened.st_ino))
        return view

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


def _readable(count: int, name: int) -> tuple[int, int] | None:
    """The version a reader may cache under: None while the count is odd (a writer is between
    its steps, or died there) or the file has no name yet."""
    if count % 2 or name == 0:
        return None
    return (name, count)
