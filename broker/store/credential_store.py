"""``CredentialStore``: keyring entries plus their index rows, kept in step, with locks."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from broker.errors import StoreError
from broker.minters.base import Credentials
from broker.private_files import PrivateFiles
from broker.store.entries import (
    decode_credentials,
    decode_lifetime,
    decode_session,
    encode_credentials,
    encode_session,
    profile_key,
    session_key,
)
from broker.store.home_id import home_id, scoped_key
from broker.store.index import AssignmentRow, Index, IndexFile, ProfileRow, SessionRow
from broker.store.keyring_store import KeyringStore
from broker.store.locking import named_lock
from providers.base import SignInResult

__all__ = ["CachedCredentials", "CredentialStore"]


@dataclass(frozen=True)
class CachedCredentials:
    """A profile's cached credentials and the lifetime they were minted with (None for an
    entry written before lifetimes were kept)."""

    credentials: Credentials
    lifetime_seconds: int | None


_files = PrivateFiles(StoreError)


class CredentialStore:
    """Credentials per profile and IdP sessions per provider, under ``<data>/store``.

    Keyring entries carry the data directory's id (``home_id``), so two data directories of
    one user never share or overwrite each other's. An entry written by an earlier version
    (no id) is adopted on first read when this directory's index vouches for it (a profile's
    row names the same access key id; a session has its row), and removed from the old name.

    Args:
        data_dir: the broker's data directory (``broker.config.data_dir()``).
        keyring: the keyring to use (a fresh allow-listed ``KeyringStore`` by default).
    """

    def __init__(self, data_dir: Path, keyring: KeyringStore | None = None) -> None:
        self.data_dir = data_dir
        self.dir = data_dir / "store"
        self.keyring = keyring or KeyringStore()
        self.index = IndexFile(self.dir)
        self._home: str | None = None

    def _key(self, key: str) -> str:
        if self._home is None:
            self._home = home_id(self.data_dir)
        return scoped_key(self._home, key)

    def _get(self, key: str, vouched: Callable[[str], bool]) -> str | None:
        """The entry for ``key`` in this data directory, adopting a pre-id entry if vouched."""
        entry = self.keyring.get(self._key(key))
        if entry is not None:
            return entry
        legacy = self.keyring.get(key)
        if legacy is None or not vouched(legacy):
            return None
        self.keyring.set(self._key(key), legacy)
        self.keyring.delete(key)
        return legacy

    def _drop_legacy(self, key: str, vouched: Callable[[str], bool]) -> bool:
        """Delete a pre-id entry for ``key`` if it is this directory's (never left behind by
        a logout that happened before the first read adopted it)."""
        legacy = self.keyring.get(key)
        return legacy is not None and vouched(legacy) and self.keyring.delete(key)

    @contextmanager
    def lock(self, kind: str, name: str, *, timeout: float = 120.0) -> Iterator[None]:
        """The cross-process lock for a profile (``kind="profile"``) or provider session."""
        _files.ensure_dir(self.dir)
        with named_lock(self.dir / "locks", kind, name, timeout=timeout):
            yield

    # -- profiles -------------------------------------------------------------------------

    def credentials(self, profile: str) -> Credentials | None:
        """The cached credentials of ``profile``, or None (absent or unreadable)."""
        cached = self.cached(profile)
        return None if cached is None else cached.credentials

    def cached(self, profile: str) -> CachedCredentials | None:
        """The cached credentials of ``profile`` with their lifetime, or None."""
        entry = self._get(profile_key(profile), lambda old: self._vouches(profile, old))
        if entry is None:
            return None
        try:
            return CachedCredentials(decode_credentials(entry), decode_lifetime(entry))
        except StoreError:
            return None

    def _vouches(self, profile: str, legacy: str) -> bool:
        row = self.read_index().profiles.get(profile)
        try:
            return row is not None and decode_credentials(legacy).access_key_id == row.access_key_id
        except StoreError:
            return False

    def save_credentials(
        self,
        profile: str,
        *,
        provider: str,
        account: str,
        role: str,
        credentials: Credentials,
        lifetime_seconds: int | None = None,
        minter: str | None = None,
    ) -> None:
        """Keep ``credentials`` for ``profile``: keyring entry first, then its index row.

        ``lifetime_seconds`` (how long they were minted for) decides how long they stay
        fresh; by default it is what is left of them now, as they are saved when minted.
        ``minter`` names what minted them (``broker sessions`` shows it).
        """
        lifetime = lifetime_seconds
        if lifetime is None:
            lifetime = int((credentials.expiration - datetime.now(UTC)).total_seconds())
        self.keyring.set(self._key(profile_key(profile)), encode_credentials(credentials, lifetime))
        row = ProfileRow(
            profile=profile,
            provider=provider,
            account=account,
            role=role,
            expiration=credentials.expiration,
            access_key_id=credentials.access_key_id,
            minter=minter,
        )
        self.index.update(
            lambda index: dataclasses.replace(index, profiles={**index.profiles, profile: row})
        )

    def forget_profile(self, profile: str) -> bool:
        """Remove the profile's keyring entry and index row; False if neither existed."""
        self._drop_legacy(profile_key(profile), lambda old: self._vouches(profile, old))
        removed = self.keyring.delete(self._key(profile_key(profile)))
        had_row = profile in self.read_index().profiles
        if had_row:
            self.index.update(
                lambda index: dataclasses.replace(
                    index, profiles={k: v for k, v in index.profiles.items() if k != profile}
                )
            )
        return removed or had_row

    # -- IdP sessions ---------------------------------------------------------------------

    def session(self, provider: str) -> SignInResult | None:
        """The stored sign-in for ``provider`` (claims from the index, tokens from the keyring)."""
        row = self.read_index().sessions.get(provider)
        if row is None:
            return None
        entry = self._get(session_key(provider), lambda _old: True)  # the row vouches
        if entry is None:
            return None
        return decode_session(entry, row.claims)

    def save_session(self, provider: str, result: SignInResult) -> None:
        """Keep a sign-in: tokens to the keyring, claims and expiry to the index."""
        self.keyring.set(self._key(session_key(provider)), encode_session(result))
        row = SessionRow(
            provider=provider,
            claims=result.claims,
            expires_at=result.expires_at,
            signed_in_at=datetime.now(UTC),
            can_refresh=result.refresh_token is not None,
        )
        self.index.update(
            lambda index: dataclasses.replace(index, sessions={**index.sessions, provider: row})
        )

    def forget_session(self, provider: str) -> list[str]:
        """Remove the session and every profile minted from it; returns those profiles."""
        had_session = provider in self.read_index().sessions
        self._drop_legacy(session_key(provider), lambda _old: had_session)
        self.keyring.delete(self._key(session_key(provider)))
        profiles = [n for n, r in self.read_index().profiles.items() if r.provider == provider]
        for name in profiles:
            self._drop_legacy(profile_key(name), functools.partial(self._vouches, name))
            self.keyring.delete(self._key(profile_key(name)))

        def drop(index: Index) -> Index:
            return dataclasses.replace(
                index,
                profiles={k: v for k, v in index.profiles.items() if v.provider != provider},
                sessions={k: v for k, v in index.sessions.items() if k != provider},
            )

        self.index.update(drop)
        return profiles

    # -- assignment profiles --------------------------------------------------------------

    def record_assignments(self, rows: Iterable[AssignmentRow], *, replace: bool) -> None:
        """Record which assignment each written profile name stands for; with ``replace``,
        rows not given are dropped (``configure aws --prune``), else they are kept."""
        given = {row.profile: row for row in rows}

        def change(index: Index) -> Index:
            kept = {} if replace else dict(index.assignments)
            return dataclasses.replace(index, assignments={**kept, **given})

        self.index.update(change)

    def read_index(self) -> Index:
        return self.index.read()
