"""Private files under the data directory: 0700 directories, 0600 files, atomic replacement.

Everything the store writes outside the keyring (the index, lock files, the replay cache) goes
through here, so one place enforces SECURITY.md's file rules: refuse a file or directory that is
group/world accessible, owned by someone else, or a symlink; write to a temp file in the same
directory, fsync it, rename it over the old one, then fsync the directory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from broker.errors import StoreError
from broker.private_dirs import make_private_dirs

__all__ = [
    "check_private",
    "check_private_path",
    "ensure_private_dir",
    "read_private_file",
    "write_private_file",
]


def check_private(path: Path, st: os.stat_result, *, directory: bool) -> None:
    """Refuse ``path`` unless it is ours, of the expected kind, and closed to group and others.

    Raises:
        StoreError: foreign owner, wrong kind (or a symlink), or group/world permission bits.
    """
    kind = "directory" if directory else "file"
    if (
        stat.S_ISLNK(st.st_mode)
        or (stat.S_ISDIR(st.st_mode) if directory else stat.S_ISREG(st.st_mode)) is False
    ):
        raise StoreError(f"{path} is not a plain {kind}; remove it and retry")
    if st.st_uid != os.geteuid():
        raise StoreError(f"{path} is owned by another user (uid {st.st_uid}); refusing to use it")
    if st.st_mode & 0o077:
        mode = oct(stat.S_IMODE(st.st_mode))
        want = "0700" if directory else "0600"
        raise StoreError(
            f"{path} is readable or writable by others (mode {mode}); run `chmod {want} {path}`"
        )


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and any missing parents) as 0700, then check it is private."""
    try:
        make_private_dirs(path)
        st = os.lstat(path)
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror}") from None
    check_private(path, st, directory=True)
    return path


def check_private_path(path: Path) -> bool:
    """True if ``path`` exists and is a private file of ours; False if absent; else refuse."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"cannot inspect {path}: {exc.strerror}") from None
    check_private(path, st, directory=False)
    return True


def read_private_file(path: Path) -> bytes | None:
    """The contents of ``path``, or None if it does not exist; refuses non-private files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}; remove it and retry") from None
    with os.fdopen(fd, "rb") as handle:
        check_private(path, os.fstat(fd), directory=False)
        return handle.read()


def write_private_file(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data`` (temp file, fsync, rename, fsync directory)."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write {path}: {exc.strerror}") from None
