"""What is cached: one row per profile, from the store's index (no keyring read, no secret).

The one source for ``broker sessions`` and the terminal app's Sessions view
(``broker.tui.sessions_data``), so the two always show the same facts: profile, provider,
account (with its name where the directory knows it), role (an assignment profile's
permission set, as the portal shows it), expiry, and the minter that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from broker.errors import BrokerError, UsageError
from broker.store.credential_store import CredentialStore
from broker.store.index import Index

if TYPE_CHECKING:
    from broker.sts.state_handle import StateHandle

__all__ = ["CachedSession", "cached_sessions", "clear_sessions", "role_label"]


@dataclass(frozen=True)
class CachedSession:
    """A cached profile's facts (never a secret)."""

    profile: str
    provider: str
    account_id: str
    account_name: str
    role: str
    expiration: datetime
    minter: str | None  # None: cached before the index recorded it
    refreshable: bool  # its provider's sign-in session is stored


def role_label(index: Index, profile: str, role: str) -> str:
    """An assignment profile's permission set (as the portal names it), else the role."""
    assignment = index.assignments.get(profile)
    if assignment is not None and assignment.role == role and assignment.permission_set:
        return str(assignment.permission_set)
    return role


def _account_names(config_dir: Path, state: StateHandle) -> dict[str, str]:
    """Account id -> name from the directory over the front end's state, or nothing where
    there is no usable one (a machine with only ``[profiles]`` tables lists account ids)."""
    if not (config_dir / "directory").is_dir():
        return {}
    from broker.directory import load_directory

    try:
        directory = load_directory(config_dir, state.state().shared.database)
    except BrokerError:
        return {}  # `broker directory validate` says what is wrong; sessions still list
    try:
        return {account.id: account.name for account in directory.accounts()}
    finally:
        directory.close()


def cached_sessions(config_dir: Path, state: StateHandle) -> list[CachedSession]:
    """Every cached profile, sorted by name; the state is opened only to name accounts.

    Raises:
        StoreError: the index is unreadable or not private.
    """
    from broker.store.index import IndexFile

    index = IndexFile(state.data_dir / "store").read()
    names = _account_names(config_dir, state) if index.profiles else {}
    return [
        CachedSession(
            profile=row.profile,
            provider=row.provider,
            account_id=row.account,
            account_name=names.get(row.account, row.account),
            role=role_label(index, row.profile, row.role),
            expiration=row.expiration,
            minter=row.minter,
            refreshable=row.provider in index.sessions,
        )
        for row in sorted(index.profiles.values(), key=lambda row: row.profile)
    ]


def clear_sessions(data_dir: Path, profile: str | None) -> list[str]:
    """Forget the cached credentials of ``profile`` (every profile when None); returns the
    profiles forgotten. Sign-in sessions stay (``broker logout`` ends those).

    Raises:
        UsageError: ``profile`` has nothing cached (the message lists what is).
        StoreError: keyring or index failure.
    """
    store = CredentialStore(data_dir)
    cached = sorted(store.read_index().profiles)
    if profile is not None and profile not in cached:
        listed = ", ".join(cached) or "none"
        raise UsageError(f"nothing is cached for profile {profile!r} (cached: {listed})")
    targets = cached if profile is None else [profile]
    for name in targets:
        with store.lock("profile", name):
            store.forget_profile(name)
    return targets
