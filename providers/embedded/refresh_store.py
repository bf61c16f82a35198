"""The embedded issuer's refresh tokens, shared by every process of this user, hashes only.

Why on disk: the headless refresher runs in another process than the ``broker login`` that
signed in, and must be able to refresh. Only SHA-256 hashes of the tokens are written (the
tokens themselves live in the keyring, on the client side), in a 0700 directory, files 0600,
written to a temporary file, fsynced and renamed, under an exclusive ``flock`` so two
processes rotating at once cannot both redeem one token.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from broker.errors import ProviderError
from broker.private_files import PrivateFiles

__all__ = ["PROVIDER_FILES", "RefreshRecord", "RefreshStore"]

PROVIDER_FILES = PrivateFiles(ProviderError)
"""The private-file rules for the embedded IdP's files, raising ``ProviderError``."""


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


class RefreshStore:
    """Refresh-token hashes in ``directory/refresh-tokens.json``."""

    def __init__(self, directory: Path, clock: Callable[[], float] = time.time) -> None:
        self._file = directory / "refresh-tokens.json"
        self._clock = clock

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, dict[str, Any]]]:
        with PROVIDER_FILES.locked(self._file):
            records = self._read()
            before = dict(records)
            now = self._clock()
            for key in [k for k, v in records.items() if v.get("expires_at", 0) <= now]:
                del records[key]
            yield records
            if records != before:
                PROVIDER_FILES.write_json(self._file, records)

    def _read(self) -> dict[str, dict[str, Any]]:
        data = PROVIDER_FILES.read_json(
            self._file,
            {},
            fix="delete it (everyone signed in to the embedded IdP will sign in again)",
        )
        return data if isinstance(data, dict) else {}

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
