"""A stable, random id for one data directory, to keep its keyring entries apart from others'.

Why: the keyring is per user, not per data directory. Two ``BROKER_HOME``s of one user (a
test checkout beside the real one, two organisations) named their entries ``profile:dev`` and
``session:corp`` alike, so each read and overwrote the other's credentials. Entries are now
``<id>/profile:dev``, where ``<id>`` is 32 random hex digits kept in ``<data>/store/home-id``
(0600): stable when the directory is moved or reached through another path, which a path
would not be, and never guessable from outside.

``read_home_id`` is the ``credential-process`` hot path's read: no imports beyond ``os``, no
creation, ``None`` on anything unusual (the full path then creates or reports).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["HOME_ID_FILE", "home_id", "read_home_id", "scoped_key"]

HOME_ID_FILE = Path("store") / "home-id"
_LENGTH = 32


def scoped_key(home: str, key: str) -> str:
    """The keyring username of ``key`` (``profile:NAME``, ``session:PROVIDER``) in ``home``."""
    return f"{home}/{key}"


def _valid(text: str) -> bool:
    return len(text) == _LENGTH and all(ch in "0123456789abcdef" for ch in text)


def read_home_id(data_dir: Path) -> str | None:
    """The data directory's id if it already has a private, well-formed one; else None."""
    try:
        fd = os.open(data_dir / HOME_ID_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid() or st.st_mode & 0o077:
            return None
        text = os.read(fd, 64).decode("ascii", "replace").strip()
    finally:
        os.close(fd)
    return text if _valid(text) else None


def home_id(data_dir: Path) -> str:
    """The data directory's id, created on first use (under a lock: one id, whoever races).

    Raises:
        StoreError: the id file is not private (the message names the ``chmod``), or is not
            an id (it says to delete it; entries stored under the old id are then orphaned).
    """
    from broker.errors import StoreError
    from broker.private_files import PrivateFiles

    files = PrivateFiles(StoreError)
    path = data_dir / HOME_ID_FILE

    def existing() -> str | None:
        data = files.read_bytes(path)
        if data is None:
            return None
        text = data.decode("ascii", "replace").strip()
        if not _valid(text):
            raise StoreError(
                f"{path} is not a data-directory id; delete it and run `broker login` again"
            )
        return text

    found = existing()
    if found is not None:
        return found
    with files.locked(path):
        found = existing()
        if found is None:
            import secrets

            found = secrets.token_hex(_LENGTH // 2)
            files.write_bytes(path, found.encode("ascii") + b"\n")
    return found
