"""The credential chain's fast tier: profile ``dev``, a test clock, and a rig of the real
chain and store over ``MemoryKeyring`` (kept apart from ``tests.client_support``, which whole
``broker`` processes import at start and so must stay light)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broker.client.chain import Chain
from broker.client.profiles import Profile
from broker.minters.base import Credentials
from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from broker.store.memory_keyring import MemoryKeyring
from broker.store.revocation_stamp import touch_revocation_stamp
from providers.testing import SilentUI
from tests.client_support import CountingMinter, TestIdP

__all__ = ["DEV", "START", "Clock", "Rig", "make_rig"]

# Profile ``dev`` of ``write_config``: corp's Developer in 111122223333, minted locally.
DEV = Profile(
    name="dev",
    provider="corp",
    account="111122223333",
    role="Developer",
    minter="local",
    duration=3600,
    region=None,
)

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock that moves only when the test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


@dataclass
class Rig:
    """One data directory, its in-memory keyring, a signed-in IdP, a minter and a clock."""

    data_dir: Path
    keyring: MemoryKeyring
    store: CredentialStore
    idp: TestIdP
    minter: CountingMinter
    clock: Clock
    revoked_keys: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def chain(self, store: CredentialStore | None = None) -> Chain:
        return Chain(
            store=store or self.store,
            minter=lambda _p: self.minter,
            provider=lambda _n: self.idp,
            warn=self.warnings.append,
            now=self.clock,
            revoked=lambda _p, c: c.access_key_id in self.revoked_keys,
        )

    def sign_in(self) -> None:
        run_login(
            LoginInput(provider="corp"), store=self.store, build=lambda _n: self.idp, ui=SilentUI()
        )

    def reopened(self) -> CredentialStore:
        """A new store on the same directory and keyring, as the next process opens it."""
        return CredentialStore(self.data_dir, keyring=self.keyring)

    def revoke(self, credentials: Credentials) -> None:
        """Revoke the session of ``credentials``: the rules change, so the stamp moves."""
        self.revoked_keys.add(credentials.access_key_id)
        touch_revocation_stamp(self.data_dir)


def make_rig(tmp_path: Path) -> Rig:
    """A signed-in rig under ``tmp_path`` at ``START`` (unset ``BROKER_DATABASE_URL`` first:
    with it, revocation stamps are uncheckable and the fast path never serves)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    keyring = MemoryKeyring()
    store = CredentialStore(data_dir, keyring=keyring)
    clock = Clock(START)
    minter = CountingMinter(tmp_path / "mints.log", clock=clock)
    rig = Rig(data_dir, keyring, store, TestIdP(clock=clock), minter, clock)
    rig.sign_in()
    return rig
