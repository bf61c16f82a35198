"""``CredentialStore``: keyring entries plus their index rows, kept in step, with locks."""

from __future__ import annotations

import dataclasses
import functools
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from broker.errors import StoreError
from broker.keyring_gate.home_id import home_id, scoped_key
from broker.minters.base import Credentials
from broker.private_files import PrivateFiles
from broker.store.crash_points import crash_point
from broker.store.entries import (
    decode_credentials,
    decode_lifetime,
    decode_session,
    encode_credentials,
    encode_session,
    entry_stamp,
    profile_key,
    session_key,
    session_nonce,
)
from broker.store.index import AssignmentRow, Index, IndexFile, ProfileRow, SessionRow
from broker.store.intents import IntentJournal
from broker.store.keyring_store import KeyringStore
from broker.store.locking import named_lock
from broker.store.revocation_stamp import revocation_stamp
from broker.store.secret_keyring import SecretKeyring
from providers.base import SignInResult

__all__ = ["CachedCredentials", "CredentialStore"]


class CachedCredentials(NamedTuple):
    """A profile's cached credentials, the revocation stamp they were last checked at
    (``UNCHECKED`` if never), and the lifetime they were minted with (None for an entry
    written before lifetimes were kept)."""

    credentials: Credentials
    stamp: str
    lifetime_seconds: int | None


_files = PrivateFiles(StoreError)

UNCHECKED = "-"  # the revocation stamp of an entry nobody has checked (never served fast)


class CredentialStore:
    """Credentials per profile and IdP sessions per provider, under ``<data>/store``.

    Keyring entries carry the data directory's id (``home_id``), so two data directories of
    one user never share or overwrite each other's. An entry written by an earlier version
    (no id) is adopted on first read when this directory's index vouches for it (a profile's
    row names the same access key id; a session has its row), and removed from the old name.

    Every write goes through a write intent (``broker.store.intents``), and the first use of
    a store settles the intents that dead writers left, so a keyring entry never outlives a
    crash without its index row. ``forget_everything`` (``logout --all``) lists the keyring
    itself for this directory's entries, so nothing it holds for this directory is left behind.

    Args:
        data_dir: the broker's data directory, as the front end resolved it.
        keyring: the keyring to use (a fresh allow-listed ``KeyringStore`` by default; the
            unit tier passes a ``broker.store.memory_keyring.MemoryKeyring``).
    """

    def __init__(self, data_dir: Path, keyring: SecretKeyring | None = None) -> None:
        self.data_dir = data_dir
        self.dir = data_dir / "store"
        self.keyring: SecretKeyring = KeyringStore() if keyring is None else keyring
        self.index = IndexFile(self.dir)
        self.intents = IntentJournal(data_dir)
        self._home: str | None = None
        self._settled = False

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
        return None if cached is None else cached[0]

    def cached(self, profile: str) -> CachedCredentials | None:
        """The cached credentials of ``profile``, the revocation stamp they were last checked
        at (``UNCHECKED`` if never) and their lifetime, or None (absent or unreadable)."""
        self._settle()
        entry = self._get(profile_key(profile), lambda old: self._vouches(profile, old))
        if entry is None:
            return None
        try:
            return CachedCredentials(
                decode_credentials(entry), entry_stamp(entry) or UNCHECKED, decode_lifetime(entry)
            )
        except StoreError:
            return None

    def revocation_stamp(self) -> str:
        """The current stamp of this data directory's revocation list."""
        return revocation_stamp(self.data_dir)

    def restamp(self, profile: str, credentials: Credentials, stamp: str) -> None:
        """Record that ``credentials`` (still the cached ones) were checked at ``stamp``, so
        the fast path serves them again. Call under the profile's lock."""
        found = self.cached(profile)
        if found is not None and found.credentials.access_key_id == credentials.access_key_id:
            entry = encode_credentials(found.credentials, stamp, found.lifetime_seconds)
            self.keyring.set(self._key(profile_key(profile)), entry)

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
        stamp: str = UNCHECKED,
        lifetime_seconds: int | None = None,
        minter: str | None = None,
    ) -> None:
        """Keep ``credentials`` for ``profile``: intent, keyring entry, index row.

        ``stamp`` is the revocation list's stamp read before the credentials were minted (or
        checked); the default leaves them for the full path to check before the fast path
        serves them. ``lifetime_seconds`` (how long they were minted for) decides how long
        they stay fresh; by default it is what is left of them now, as they are saved when
        minted. ``minter`` names what minted them (``broker sessions`` shows it).
        """
        lifetime = lifetime_seconds
        if lifetime is None:
            lifetime = int((credentials.expiration - datetime.now(UTC)).total_seconds())
        self._settle()
        row = ProfileRow(
            profile=profile,
            provider=provider,
            account=account,
            role=role,
            expiration=credentials.expiration,
            access_key_id=credentials.access_key_id,
            minter=minter,
        )
        key = profile_key(profile)
        with self.intents.writing(key, {"kind": "profile", "row": row.to_json()}):
            self.keyring.set(self._key(key), encode_credentials(credentials, stamp, lifetime))
            crash_point("secret-written")
            self._put_profile_row(row)

    def _put_profile_row(self, row: ProfileRow) -> None:
        self.index.update(
            lambda index: dataclasses.replace(index, profiles={**index.profiles, row.profile: row})
        )

    def _drop_profile_row(self, profile: str) -> None:
        self.index.update(
            lambda index: dataclasses.replace(
                index, profiles={k: v for k, v in index.profiles.items() if k != profile}
            )
        )

    def forget_profile(self, profile: str) -> bool:
        """Remove the profile's keyring entry and index row; False if neither existed.

        The entry goes first: a crash in between leaves a row without an entry, which reads
        as "not cached" and is removed by the next forget."""
        self._settle()
        self._drop_legacy(profile_key(profile), lambda old: self._vouches(profile, old))
        removed = self.keyring.delete(self._key(profile_key(profile)))
        crash_point("secret-deleted")
        had_row = profile in self.read_index().profiles
        if had_row:
            self._drop_profile_row(profile)
        return removed or had_row

    # -- IdP sessions ---------------------------------------------------------------------

    def session(self, provider: str) -> SignInResult | None:
        """The stored sign-in for ``provider`` (claims from the index, tokens from the keyring)."""
        self._settle()
        row = self.read_index().sessions.get(provider)
        if row is None:
            return None
        entry = self._get(session_key(provider), lambda _old: True)  # the row vouches
        if entry is None:
            return None
        return decode_session(entry, row.claims)

    def save_session(self, provider: str, result: SignInResult) -> None:
        """Keep a sign-in: intent, tokens to the keyring, claims and expiry to the index."""
        self._settle()
        row = SessionRow(
            provider=provider,
            claims=result.claims,
            expires_at=result.expires_at,
            signed_in_at=datetime.now(UTC),
            can_refresh=result.refresh_token is not None,
        )
        key = session_key(provider)
        nonce = secrets.token_hex(16)  # names this write's entry; not a secret
        record = {"kind": "session", "row": row.to_json(), "nonce": nonce}
        with self.intents.writing(key, record):
            self.keyring.set(self._key(key), encode_session(result, nonce))
            crash_point("secret-written")
            self._put_session_row(row)

    def _put_session_row(self, row: SessionRow) -> None:
        self.index.update(
            lambda index: dataclasses.replace(index, sessions={**index.sessions, row.provider: row})
        )

    def _drop_session_row(self, provider: str) -> None:
        self.index.update(
            lambda index: dataclasses.replace(
                index, sessions={k: v for k, v in index.sessions.items() if k != provider}
            )
        )

    def forget_session(self, provider: str) -> list[str]:
        """Remove the session and every profile minted from it; returns those profiles.

        Entries of this data directory that no index row accounts for (left by a crash of an
        earlier version) go too: nothing can tell whose they were."""
        self._settle()
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

        crash_point("secret-deleted")
        self.index.update(drop)
        self._drop_unaccounted()
        return profiles

    def _scope_keys(self) -> list[str]:
        """This data directory's keys in the keyring (listed from the keyring where it can,
        else those the index and intents know of)."""
        prefix = self._key("")
        listed = self.keyring.keys_with_prefix(prefix)
        if listed is not None:
            return [key[len(prefix) :] for key in listed]
        index = self.read_index()
        return [
            *(profile_key(name) for name in index.profiles),
            *(session_key(name) for name in index.sessions),
        ]

    def _drop_unaccounted(self) -> None:
        index = self.read_index()
        known = {profile_key(n) for n in index.profiles} | {session_key(n) for n in index.sessions}
        for key in self._scope_keys():
            base = key.partition("#")[0]  # a part (``KEY#GEN.I``) goes with its entry
            if base not in known and base.startswith(("profile:", "session:")):
                self.keyring.delete(self._key(key))

    def forget_everything(self) -> list[str]:
        """Remove every profile and session entry of this data directory from the keyring
        (as listed by the keyring itself) and their index rows; returns the profiles."""
        self._settle()
        profiles = sorted(self.read_index().profiles)
        for key in self._scope_keys():
            if key.startswith(("profile:", "session:")):
                self.keyring.delete(self._key(key))
        crash_point("secret-deleted")
        self.index.update(lambda index: dataclasses.replace(index, profiles={}, sessions={}))
        return profiles

    # -- recovery -------------------------------------------------------------------------

    def _settle(self) -> None:
        """Settle the intents dead writers left (once per store object)."""
        if self._settled:
            return
        self._settled = True
        for name in self.intents.pending():
            with self.intents.settling(name) as record:
                if record is not None:
                    self._settle_one(record)

    def _settle_one(self, record: dict[str, object]) -> None:
        try:
            key = str(record["key"])
            kind = record["kind"]
            row_json = record["row"]
            name = key.partition(":")[2]
            if kind == "profile":
                self._settle_profile(key, ProfileRow.from_json(name, row_json))
            elif kind == "session":
                self._settle_session(key, SessionRow.from_json(name, row_json), record["nonce"])
        except (KeyError, TypeError, ValueError):
            return  # not an intent of ours: written before any keyring write could follow

    def _settle_profile(self, key: str, row: ProfileRow) -> None:
        entry = self.keyring.get(self._key(key))
        try:
            held = decode_credentials(entry).access_key_id if entry is not None else None
        except StoreError:
            held = None
        current = self.read_index().profiles.get(row.profile)
        if held is not None and held == row.access_key_id:
            self._put_profile_row(row)  # the new secret is there: finish the write
        elif held is None or current is None or current.access_key_id != held:
            self.keyring.delete(self._key(key))  # nothing the index accounts for: remove
            if current is not None:
                self._drop_profile_row(row.profile)

    def _settle_session(self, key: str, row: SessionRow, nonce: object) -> None:
        entry = self.keyring.get(self._key(key))
        current = self.read_index().sessions.get(row.provider)
        if entry is not None and session_nonce(entry) == nonce:
            self._put_session_row(row)
        elif entry is None or current is None:
            self.keyring.delete(self._key(key))
            if current is not None:
                self._drop_session_row(row.provider)

    # -- assignment profiles --------------------------------------------------------------

    def record_assignments(self, rows: Iterable[AssignmentRow], *, replace: bool) -> None:
        """Record which assignment each written profile name stands for; with ``replace``,
        rows not given are dropped (``configure aws --prune``), else they are kept."""
        self._settle()
        given = {row.profile: row for row in rows}

        def change(index: Index) -> Index:
            kept = {} if replace else dict(index.assignments)
            return dataclasses.replace(index, assignments={**kept, **given})

        self.index.update(change)

    def read_index(self) -> Index:
        self._settle()
        return self.index.read()
