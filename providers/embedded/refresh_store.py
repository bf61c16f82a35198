"""The embedded issuer's refresh tokens, shared by every process of this user, hashes only.

Why on disk: the headless refresher runs in another process than the ``broker login`` that
signed in, and must be able to refresh. Only SHA-256 hashes of the tokens are written (the
tokens themselves live in the keyring, on the client side), in a 0700 directory, files 0600,
written to a temporary file, fsynced and renamed, under an exclusive ``flock`` so two
processes rotating at once cannot both redeem one token.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from broker.errors import ProviderError
from broker.private_dirs import make_private_dirs

__all__ = ["RefreshRecord", "RefreshStore"]


@dataclass(frozen=True)
class RefreshRecord:
    """What a refresh token stands for (never the token itself)."""

    username: str
    client_id: str
    scope: str
    auth_time: int
    expires_at: float

    def check_client(self, client: Any) -> bool:
        """authlib's ``TokenMixin.check_client``: issued to this client?"""
        return bool(client.get_client_id() == self.client_id)

    def get_scope(self) -> str:
        return self.scope


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _private_dir(path: Path) -> None:
    # The data directory too is created 0700 (``parents=True`` alone would use the umask).
    make_private_dirs(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ProviderError(
            f"{path} is readable by others (mode {mode:o}); run `chmod 700 {path}` and retry"
        )


class RefreshStore:
    """Refresh-token hashes in ``directory/refresh-tokens.json``."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self._dir = directory
        self._file = directory / "refresh-tokens.json"
        self._lock = directory / "refresh-tokens.lock"
        self._clock = clock

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        _private_dir(self._dir)
        fd = os.open(self._lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            records = self._read()
            before = dict(records)
            now = self._clock()
            for key in [k for k, v in records.items() if v.get("expires_at", 0) <= now]:
                del records[key]
            yield records
            if records != before:
                self._write(records)
        finally:
            os.close(fd)  # closing releases the flock

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            info = self._file.stat()
        except FileNotFoundError:
            return {}
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise ProviderError(
                f"{self._file} is readable by others; run `chmod 600 {self._file}` and retry"
            )
        try:
            data = json.loads(self._file.read_text())
        except ValueError:
            raise ProviderError(
                f"{self._file} is corrupt; delete it (everyone signed in to the embedded IdP "
                "will sign in again)"
            ) from None
        return data if isinstance(data, dict) else {}

    def _write(self, records: dict[str, dict[str, Any]]) -> None:
        fd, temp = tempfile.mkstemp(dir=self._dir, prefix=".refresh-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as handle:  # mkstemp creates the file 0600
                json.dump(records, handle, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self._file)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def add(self, token: str, record: RefreshRecord) -> None:
        """Remember ``token`` (as its hash) until ``record.expires_at``."""
        with self._locked() as records:
            records[_digest(token)] = asdict(record)

    def take(self, token: str) -> RefreshRecord | None:
        """Redeem ``token`` once: its record, removed in the same locked step; None if unknown."""
        with self._locked() as records:
            found = records.pop(_digest(token), None)
        if found is None:
            return None
        try:
            return RefreshRecord(**found)
        except TypeError:
            return None
