"""Each process's copy of the snapshots it uses, so a load does not parse a stored one again.

The cache maps a configuration fingerprint to the stored JSON document and a serialized SQLite
image of it; each ``Directory`` gets its own read-only in-memory connection deserialized from
that image (a memory copy, no parsing), so lookups on the STS request path query memory only.
A fingerprint names its content exactly (a snapshot is never changed in place), so an entry is
never stale; the least recently used beyond ``SIZE`` are dropped.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["SIZE", "CachedSnapshot", "cached", "forget_all", "open_image", "remember"]

SIZE = 4


@dataclass(frozen=True)
class CachedSnapshot:
    content: str
    """The document as stored (written again to a database that lacks it)."""
    image: bytes
    """``sqlite3.Connection.serialize()`` of the snapshot's in-memory database."""


_lock = threading.Lock()
_entries: OrderedDict[str, CachedSnapshot] = OrderedDict()


def cached(fp: str) -> CachedSnapshot | None:
    with _lock:
        found = _entries.get(fp)
        if found is not None:
            _entries.move_to_end(fp)
        return found


def remember(fp: str, content: str, conn: sqlite3.Connection) -> CachedSnapshot:
    """Keep the snapshot ``conn`` holds (stored as ``content``) for ``fp``."""
    entry = CachedSnapshot(content, conn.serialize())
    with _lock:
        _entries[fp] = entry
        _entries.move_to_end(fp)
        while len(_entries) > SIZE:
            _entries.popitem(last=False)
    return entry


def forget_all() -> None:
    """Drop every entry (tests that damage a stored snapshot on purpose)."""
    with _lock:
        _entries.clear()


def open_image(entry: CachedSnapshot) -> sqlite3.Connection:
    """A private read-only in-memory connection on a copy of ``entry``'s image."""
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    conn.deserialize(entry.image)
    conn.execute("PRAGMA query_only = ON")
    return conn
