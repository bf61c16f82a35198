"""Files only the service may read: 0700 directories, 0600 files, atomic replace, flock.

Why a module of its own: signing keys, access-key records and revocations all live in such
files, and each must refuse a file another user could read rather than trust it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from broker.errors import ConfigError
from broker.private_dirs import make_private_dirs

__all__ = ["ensure_private_dir", "locked", "read_private_json", "write_private_json"]


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (0700) if needed; refuse one that group or others can open."""
    make_private_dirs(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(f"{path} is accessible to other users (mode {mode:o}); run chmod 700")
    return path


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            f"{path} is readable by other users (mode {mode:o}); run chmod 600 on it and retry"
        )


def read_private_json(path: Path, default: Any) -> Any:
    """The JSON in ``path`` (``default`` when absent); refuses a group/world-readable file."""
    try:
        _check_private(path)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError(f"{path} is not valid JSON; restore it from a backup") from None


def write_private_json(path: Path, data: Any) -> None:
    """Write ``data`` to a 0600 temp file, fsync it, and rename it over ``path``."""
    ensure_private_dir(path.parent)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive cross-process lock (flock on ``path.lock``) for a read-modify-write."""
    ensure_private_dir(path.parent)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
