"""Telling a data directory that cannot be used apart from a bug.

Why: every command that keeps state opens files under the data directory in its own way
(SQLite, locks, the audit log, the index). When the directory itself is unusable — ``BROKER_HOME``
names a file, or it cannot be created — those opens fail with an ``OSError`` deep inside; the
command line turns such an error into one line naming the directory and what to do, instead of
reporting an internal error.
"""

from __future__ import annotations

import os
from pathlib import Path

from broker.errors import StoreError

__all__ = ["unusable_data_dir"]


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def unusable_data_dir(error: OSError, data_dir: Path) -> StoreError | None:
    """A ``StoreError`` when ``error`` is about ``data_dir`` (the front end's) being unusable,
    else None."""
    if not error.filename:
        return None
    home = data_dir.absolute()
    failed = Path(os.fsdecode(error.filename)).absolute()
    if not _inside(failed, home):
        return None
    blocker = next(
        (p for p in (home, *home.parents) if os.path.lexists(p) and not p.is_dir()), None
    )
    if blocker is not None:
        reason = f"{blocker} is not a directory"
    elif isinstance(error, PermissionError):
        reason = f"permission denied on {failed}"
    elif isinstance(error, (FileNotFoundError, NotADirectoryError, IsADirectoryError)):
        reason = f"{failed} cannot be made ({error.strerror})"
    else:
        return None
    return StoreError(
        f"the data directory {home} cannot be used: {reason}; set BROKER_HOME to a "
        "directory of yours (it is created if missing) or fix the path"
    )
