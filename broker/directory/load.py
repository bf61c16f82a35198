"""Opening the directory: validate the config and (re)build its database when it changed."""

from __future__ import annotations

from pathlib import Path

from broker.directory.database import (
    build_database,
    database_path,
    exclusive_lock,
    stored_fingerprint,
)
from broker.directory.directory import Directory
from broker.directory.runtime import shared_runtime
from broker.directory.source import Source, fingerprint
from broker.directory.validate import InvalidDirectoryError, validate
from broker.errors import DirectoryError

__all__ = ["load_directory"]


def load_directory(config_dir: Path | None = None, *, data_dir: Path | None = None) -> Directory:
    """Validate the directory config and open its database, rebuilding it if the config changed.

    Raises:
        InvalidDirectoryError: the configuration has errors (the old database is kept).
        ConfigError: no configuration directory.
    """
    from broker import config

    source = Source(config_dir if config_dir is not None else config.config_dir())
    home = data_dir if data_dir is not None else config.data_dir()
    path = database_path(home)
    fp = fingerprint(source)
    if stored_fingerprint(path) != fp:
        with exclusive_lock(home):
            for _attempt in range(3):
                if stored_fingerprint(path) == fp:
                    break
                report = validate(source)
                if not report.ok or report.spec is None:
                    raise InvalidDirectoryError(report, source)
                after = fingerprint(source)
                if after == fp:  # the files did not change while we read them
                    build_database(report.spec, source, fp, home)
                    break
                fp = after
            else:
                raise DirectoryError("the directory config keeps changing; retry when it settles")
    _refuse_shared(path)
    return Directory(path, source, shared_runtime())


def _refuse_shared(path: Path) -> None:
    """The database names who may use which role: others must not read or replace it.

    The file must be private; its directory must not be writable by others (a directory
    created 0755 by something else is tolerated, as the file itself is private)."""
    for item, mask in ((path.parent, 0o022), (path, 0o077)):
        if item.stat().st_mode & mask:
            raise DirectoryError(
                f"{item} is accessible to other users; run `chmod go-rwx {item}` and retry"
            )
