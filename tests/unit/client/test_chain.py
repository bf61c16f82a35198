"""The credential chain (cache -> refresh -> mint) on an in-memory keyring and a test clock.

The fast tier: the real ``CredentialStore`` (index, intents, locks in a temporary data
directory) over ``MemoryKeyring`` instead of the Secret Service, so each test runs in
milliseconds without D-Bus. Time is a clock the test moves, never a wait. The same chain against
the real Secret Service is tested in ``tests/integration/test_store_keyring.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from broker.client.chain import OUTAGE_FLOOR, Chain
from broker.errors import (
    KeyringUnavailableError,
    ProviderUnavailableError,
    ReauthenticationRequired,
)
from broker.minters.base import Credentials, MintRequest
from broker.store.credential_store import CredentialStore
from broker.store.memory_keyring import KeyringState
from providers.base import SignInResult
from tests.chain_support import DEV, Rig
from tests.client_support import CountingMinter
from tests.conftest import one_line


def test_fresh_cached_credentials_are_served_without_minting_or_writing(rig: Rig) -> None:
    chain = rig.chain()
    first = chain.credentials(DEV)
    writes = rig.keyring.calls["set"]
    rig.clock.advance(timedelta(minutes=30))
    assert chain.credentials(DEV) == first
    assert rig.chain(rig.reopened()).credentials(DEV) == first  # the next process too
    assert rig.minter.count() == 1
    assert rig.keyring.calls["set"] == writes


def test_credentials_inside_the_refresh_window_are_minted_anew(rig: Rig) -> None:
    chain = rig.chain()
    first = chain.credentials(DEV)
    rig.clock.at = first.expiration - timedelta(minutes=20, seconds=1)
    assert chain.credentials(DEV) == first
    rig.clock.at = first.expiration - timedelta(minutes=19)
    second = chain.credentials(DEV)
    assert second.access_key_id != first.access_key_id
    assert second.expiration == rig.clock() + timedelta(hours=1)
    assert rig.minter.count() == 2
    cached = rig.reopened().cached("dev")
    assert cached is not None and cached.credentials == second
    assert cached.lifetime_seconds == 3600  # by the chain's clock, not the wall's


def test_an_ended_idp_session_is_refreshed_once_with_rotation(rig: Rig) -> None:
    chain = rig.chain()
    chain.credentials(DEV)
    before = rig.store.session("corp")
    assert before is not None
    rig.clock.advance(timedelta(minutes=59))  # credentials and session both nearly over
    chain.credentials(DEV)
    after = rig.store.session("corp")
    assert after is not None
    assert rig.idp.refreshes == 1 and rig.minter.count() == 2
    assert after.refresh_token != before.refresh_token
    assert after.refresh_token == rig.idp.issued_refresh_tokens[-1]
    assert after.expires_at == rig.clock() + timedelta(hours=1)


def test_an_unreachable_idp_keeps_the_old_credentials_until_the_outage_floor(rig: Rig) -> None:
    rig.idp.lifetime = 30 * 60  # the IdP session ends before the credentials do
    rig.sign_in()
    chain = rig.chain()
    first = chain.credentials(DEV)
    rig.idp.down = True
    rig.clock.at = first.expiration - OUTAGE_FLOOR - timedelta(minutes=4)
    assert chain.credentials(DEV) == first
    assert len(rig.warnings) == 1 and "serving the cached credentials" in rig.warnings[0]
    with pytest.raises(ProviderUnavailableError):
        chain.credentials(DEV, ride_out_outage=False)  # the refresher backs off instead

    rig.clock.at = first.expiration - OUTAGE_FLOOR + timedelta(seconds=1)
    with pytest.raises(ProviderUnavailableError) as refused:
        chain.credentials(DEV)
    assert "idp.example.com is unreachable" in one_line(str(refused.value))
    assert rig.minter.count() == 1
    cached = rig.reopened().cached("dev")
    assert cached is not None and cached.credentials == first  # nothing replaced them


def test_a_refused_refresh_fails_closed_and_names_the_login(rig: Rig) -> None:
    chain = rig.chain()
    chain.credentials(DEV)
    rig.idp.revoked = True
    rig.clock.advance(timedelta(minutes=59))
    with pytest.raises(ReauthenticationRequired) as refused:
        chain.credentials(DEV)
    assert "`broker login corp`" in one_line(str(refused.value))
    assert rig.minter.count() == 1


def test_no_session_at_all_asks_for_a_login_and_mints_nothing(rig: Rig) -> None:
    rig.store.forget_session("corp")
    with pytest.raises(ReauthenticationRequired, match="not signed in to corp"):
        rig.chain().credentials(DEV)
    assert rig.minter.count() == 0


class _ArrivalsStore(CredentialStore):
    """A store that counts the callers that reached the profile lock (missed the cache)."""

    def __init__(self, *args: Any, arrived: threading.Condition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrived = arrived
        self.count = 0

    @contextmanager
    def lock(self, kind: str, name: str, *, timeout: float = 120.0) -> Iterator[None]:
        if kind == "profile":
            with self.arrived:
                self.count += 1
                self.arrived.notify_all()
        with super().lock(kind, name, timeout=timeout):
            yield


def test_concurrent_callers_on_a_cold_cache_share_one_mint(rig: Rig) -> None:
    callers = 8
    arrived = threading.Condition()
    stores = [
        _ArrivalsStore(rig.data_dir, keyring=rig.keyring, arrived=arrived) for _ in range(callers)
    ]

    def everyone_arrived() -> bool:
        return sum(store.count for store in stores) == callers

    class HeldMinter(CountingMinter):
        """Mints only once every caller has missed the cache and is waiting for the lock,
        so a chain that did not look again under the lock would mint once per caller."""

        def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
            with arrived:
                assert arrived.wait_for(everyone_arrived, timeout=30), "callers never arrived"
            return super().mint(identity, request)

    minter = HeldMinter(rig.data_dir.parent / "held.log", clock=rig.clock)
    results: list[Credentials] = []
    failures: list[BaseException] = []

    def call(store: CredentialStore) -> None:
        chain = Chain(
            store=store, minter=lambda _p: minter, provider=lambda _n: rig.idp, now=rig.clock
        )
        try:
            results.append(chain.credentials(DEV))
        except BaseException as exc:  # reported below, with the others
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert len(results) == callers and len(set(results)) == 1
    assert minter.count() == 1


def test_a_revoked_session_is_never_served_from_the_cache(rig: Rig) -> None:
    chain = rig.chain()
    first = chain.credentials(DEV)
    rig.revoke(first)
    assert chain.servable(DEV) is None
    second = chain.credentials(DEV)
    assert second.access_key_id != first.access_key_id
    assert rig.minter.count() == 2
    assert chain.servable(DEV) == second
    assert chain.credentials(DEV) == second  # checked once against the new rules, then served
    assert rig.minter.count() == 2


def test_a_keyring_failing_mid_write_keeps_the_old_pair_whole(rig: Rig) -> None:
    chain = rig.chain()
    first = chain.credentials(DEV)
    rig.clock.at = first.expiration - timedelta(minutes=19)
    rig.keyring.fail_next("set")
    with pytest.raises(KeyringUnavailableError) as refused:
        chain.credentials(DEV)
    one_line(str(refused.value))
    assert rig.minter.count() == 2  # minted, but not kept: the write never happened

    later = rig.reopened()
    assert later.intents.pending() != []  # the dead write's intent, until the next open
    cached = later.cached("dev")
    assert cached is not None and cached.credentials == first
    assert later.read_index().profiles["dev"].access_key_id == first.access_key_id
    assert later.intents.pending() == []


class _CutOff(Exception):
    """The writer stopped here (as if the process died)."""


def test_a_write_cut_off_after_its_secret_is_finished_by_the_next_open(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(_row: object) -> None:
        raise _CutOff

    monkeypatch.setattr(rig.store, "_put_profile_row", die)
    with pytest.raises(_CutOff):
        rig.chain().credentials(DEV)
    assert rig.minter.count() == 1

    later = rig.reopened()
    cached = later.cached("dev")  # settles the intent forward: the new secret is there
    assert cached is not None
    assert later.read_index().profiles["dev"].access_key_id == cached.credentials.access_key_id
    assert later.intents.pending() == []
    assert rig.chain(later).credentials(DEV) == cached.credentials
    assert rig.minter.count() == 1


@pytest.mark.parametrize(
    ("state", "wording"),
    [(KeyringState.LOCKED, "the OS keyring is locked"), (KeyringState.ABSENT, "no secure OS")],
)
def test_a_locked_or_missing_keyring_refuses_in_one_line_and_mints_nothing(
    rig: Rig, state: KeyringState, wording: str
) -> None:
    rig.keyring.state = state
    with pytest.raises(KeyringUnavailableError) as refused:
        rig.chain(rig.reopened()).credentials(DEV)
    assert one_line(str(refused.value)).startswith(wording)
    assert rig.minter.count() == 0


def test_a_keyring_locked_between_mints_refuses_instead_of_serving_stale(rig: Rig) -> None:
    chain = rig.chain()
    first = chain.credentials(DEV)
    rig.keyring.state = KeyringState.LOCKED
    with pytest.raises(KeyringUnavailableError):
        chain.credentials(DEV)
    rig.keyring.state = KeyringState.OPEN
    assert chain.credentials(DEV) == first


def test_forgetting_everything_without_a_listing_keyring_uses_the_index(rig: Rig) -> None:
    rig.keyring.listable = False
    rig.chain().credentials(DEV)
    assert rig.keyring.snapshot() != {}
    assert rig.store.forget_everything() == ["dev"]
    assert rig.keyring.snapshot() == {}
