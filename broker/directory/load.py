"""Opening the directory: the snapshot of the configuration's fingerprint, built if none is stored.

The front end opens the state database and passes it in; nothing here finds a data directory or
reads the environment. Snapshots are keyed by the fingerprint of the configuration files
(``broker.storage.directory_snapshots``): a process reuses the one stored for its files (another
replica, or an earlier run, built it), else validates the files and stores a new one in one
``INSERT``. An invalid configuration stores nothing, so a good snapshot is never replaced by a
bad one, and a reader sees a whole snapshot or none.
"""

from __future__ import annotations

from pathlib import Path

from broker.directory.database import (
    SCHEMA_VERSION,
    build_snapshot,
    read_content,
    snapshot_content,
)
from broker.directory.directory import Directory
from broker.directory.snapshot_cache import CachedSnapshot, cached, open_image, remember
from broker.directory.source import Source, fingerprint
from broker.directory.validate import InvalidDirectoryError, validate
from broker.errors import DirectoryError
from broker.storage.database import Database
from broker.storage.directory_runtime import SqlDirectoryRuntime
from broker.storage.directory_snapshots import SqlDirectorySnapshots

__all__ = ["load_directory"]


def load_directory(config_dir: Path, database: Database) -> Directory:
    """The directory of ``config_dir`` over the state ``database`` (which stays the caller's:
    closing the directory does not close it).

    Raises:
        InvalidDirectoryError: the configuration has errors (no snapshot is stored).
        DirectoryError: the configuration kept changing while read, or its stored snapshot
            is damaged.
        ConfigError: the database is unreachable.
    """
    source = Source(config_dir)
    snapshots = SqlDirectorySnapshots(database)
    entry = _snapshot(source, snapshots)
    return Directory(open_image(entry), source, SqlDirectoryRuntime(database))


def _snapshot(source: Source, snapshots: SqlDirectorySnapshots) -> CachedSnapshot:
    fp = fingerprint(source)
    entry = cached(fp)
    if entry is not None:
        if not snapshots.has(fp, SCHEMA_VERSION):  # pruned, or another database
            snapshots.store(fp, SCHEMA_VERSION, str(source.config_dir), entry.content)
        return entry
    stored = snapshots.content(fp, SCHEMA_VERSION)
    if stored is not None:
        conn = read_content(stored, fp)
        try:
            return remember(fp, stored, conn)
        finally:
            conn.close()
    for _attempt in range(3):
        report = validate(source)
        if not report.ok or report.spec is None:
            raise InvalidDirectoryError(report, source)
        after = fingerprint(source)
        if after == fp:  # the files did not change while we read them
            conn = build_snapshot(report.spec, source, fp)
            try:
                content = snapshot_content(conn)
                snapshots.store(fp, SCHEMA_VERSION, str(source.config_dir), content)
                return remember(fp, content, conn)
            finally:
                conn.close()
        fp = after
    raise DirectoryError("the directory config keeps changing; retry when it settles")
