"""The secret-free index: which profiles and IdP sessions are cached, and until when.

It lets ``whoami``, ``refresh`` and the TUI list what is stored without touching the keyring.
It holds no secret: profile rows carry provider, account, role and expiry; session rows carry
the verified claims and the session's end; assignment rows say which account assignment a
profile written by ``broker configure aws`` stands for (so a cache miss resolves the name
without re-deriving it from a naming template). Read-modify-write happens under one file lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from broker.errors import StoreError
from broker.private_files import PrivateFiles
from broker.store.locking import named_lock
from providers.base import Claims

__all__ = ["AssignmentRow", "Index", "IndexFile", "ProfileRow", "SessionRow"]

_files = PrivateFiles(StoreError)

_VERSION = 1


@dataclass(frozen=True)
class ProfileRow:
    """A cached profile: where its credentials came from and when they expire."""

    profile: str
    provider: str
    account: str
    role: str
    expiration: datetime
    access_key_id: str
    minter: str | None = None  # None: minted before the index kept it

    def to_json(self) -> dict[str, str]:
        doc = {
            "provider": self.provider,
            "account": self.account,
            "role": self.role,
            "expiration": self.expiration.isoformat(),
            "access_key_id": self.access_key_id,
        }
        if self.minter is not None:
            doc["minter"] = self.minter
        return doc

    @classmethod
    def from_json(cls, profile: str, row: Any) -> ProfileRow:
        return cls(
            profile=profile,
            provider=str(row["provider"]),
            account=str(row["account"]),
            role=str(row["role"]),
            expiration=datetime.fromisoformat(row["expiration"]),
            access_key_id=str(row["access_key_id"]),
            minter=None if row.get("minter") is None else str(row["minter"]),
        )


@dataclass(frozen=True)
class SessionRow:
    """A signed-in IdP session: verified claims (no tokens) and when it ends."""

    provider: str
    claims: Claims
    expires_at: datetime
    signed_in_at: datetime
    can_refresh: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "claims": self.claims.to_json(),
            "expires_at": self.expires_at.isoformat(),
            "signed_in_at": self.signed_in_at.isoformat(),
            "can_refresh": self.can_refresh,
        }

    @classmethod
    def from_json(cls, provider: str, row: Any) -> SessionRow:
        return cls(
            provider=provider,
            claims=Claims.from_json(row["claims"]),
            expires_at=datetime.fromisoformat(row["expires_at"]),
            signed_in_at=datetime.fromisoformat(row["signed_in_at"]),
            can_refresh=bool(row["can_refresh"]),
        )


@dataclass(frozen=True)
class AssignmentRow:
    """A profile name standing for one account assignment of the person signed in to
    ``provider``: written by ``broker configure aws``, checked against the directory on use."""

    profile: str
    provider: str
    account: str
    account_name: str
    permission_set: str
    role: str
    duration: int
    region: str | None = None
    minter: str | None = None  # None: a directory assignment; "aws-saml": an assertion role

    def to_json(self) -> dict[str, Any]:
        doc = {
            "provider": self.provider,
            "account": self.account,
            "account_name": self.account_name,
            "permission_set": self.permission_set,
            "role": self.role,
            "duration": self.duration,
            "region": self.region,
        }
        if self.minter is not None:
            doc["minter"] = self.minter
        return doc


@dataclass(frozen=True)
class Index:
    """The whole index, immutable; ``IndexFile.update`` writes a changed copy."""

    profiles: Mapping[str, ProfileRow] = field(default_factory=dict)
    sessions: Mapping[str, SessionRow] = field(default_factory=dict)
    assignments: Mapping[str, AssignmentRow] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": _VERSION,
            "profiles": {name: row.to_json() for name, row in sorted(self.profiles.items())},
            "sessions": {name: row.to_json() for name, row in sorted(self.sessions.items())},
            "assignments": {name: row.to_json() for name, row in sorted(self.assignments.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> Index:
        """Parse a loaded document; a bad shape raises ``KeyError``/``TypeError``/``ValueError``."""
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            raise ValueError("unknown index version")
        profiles = {name: ProfileRow.from_json(name, row) for name, row in data["profiles"].items()}
        sessions = {name: SessionRow.from_json(name, row) for name, row in data["sessions"].items()}
        assignments = {
            name: AssignmentRow(
                profile=name,
                provider=str(row["provider"]),
                account=str(row["account"]),
                account_name=str(row["account_name"]),
                permission_set=str(row["permission_set"]),
                role=str(row["role"]),
                duration=int(row["duration"]),
                region=None if row.get("region") is None else str(row["region"]),
                minter=None if row.get("minter") is None else str(row["minter"]),
            )
            for name, row in data.get("assignments", {}).items()
        }
        return cls(profiles=profiles, sessions=sessions, assignments=assignments)


class IndexFile:
    """``<store>/index.json`` (0600 in a 0700 directory), replaced atomically."""

    def __init__(self, store_dir: Path) -> None:
        self.path = store_dir / "index.json"
        self._locks = store_dir / "locks"

    def read(self) -> Index:
        """The current index (empty when there is none yet).

        Raises:
            StoreError: the file is not private, not ours, or corrupt.
        """
        raw = _files.read_bytes(self.path)
        if raw is None:
            return Index()
        try:
            return Index.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise StoreError(
                f"{self.path} is corrupt; delete it (it holds no secrets) and run "
                "`broker login` again"
            ) from None

    def update(self, change: Callable[[Index], Index]) -> Index:
        """Apply ``change`` to the current index under the index lock and write the result."""
        with named_lock(self._locks, "index", "index", timeout=30):
            new = change(self.read())
            text = json.dumps(new.to_json(), indent=2, sort_keys=True) + "\n"
            _files.write_bytes(self.path, text.encode())
            return new
