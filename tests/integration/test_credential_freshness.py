"""One freshness rule for the chain and the ``credential-process`` fast path: every lifetime
from 15 minutes to 36 hours is served from the cache until botocore's own refresh window
(``broker.client.freshness``), through the real CLI and the real Secret Service."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.client.chain import Chain, fresh_enough
from broker.client.profiles import Profile
from broker.minters.base import Credentials
from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from providers.testing import SilentUI
from tests.client_support import CountingMinter, TestIdP, write_config

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

MINUTE = 60
HOUR = 3600

# (lifetime, seconds left, served from the cache?)
CASES = [
    (15 * MINUTE, 15 * MINUTE - 5, True),  # just minted: inside botocore's advisory window
    (15 * MINUTE, 11 * MINUTE + 40, True),
    (15 * MINUTE, 10 * MINUTE + 20, False),  # would reach botocore's mandatory window
    (30 * MINUTE, 15 * MINUTE + 40, True),
    (30 * MINUTE, 14 * MINUTE + 20, False),
    (12 * HOUR, 20 * MINUTE + 40, True),
    (12 * HOUR, 19 * MINUTE + 20, False),
    (36 * HOUR, 35 * HOUR, True),
]


@pytest.fixture
def config(broker_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = write_config(tmp_path / "config")
    monkeypatch.setenv("BROKER_CONFIG", str(directory))
    return directory


def _seed(store: CredentialStore, profile: str, lifetime: int, left: int) -> Credentials:
    credentials = Credentials(
        access_key_id="BKIAFRESH" + f"{lifetime:06d}{left:05d}"[-11:],
        secret_access_key="f" * 40,
        session_token="fresh-token",
        expiration=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=left),
    )
    store.save_credentials(
        profile,
        provider="corp",
        account="111122223333",
        role="Developer",
        credentials=credentials,
        lifetime_seconds=lifetime,
        stamp=store.revocation_stamp(),  # as a mint records it: the fast path may serve it
    )
    return credentials


@pytest.mark.parametrize(("lifetime", "left", "served"), CASES)
def test_fast_path_and_chain_agree_on_freshness(
    secret_service: None,
    broker_home: Path,
    config: Path,
    run_broker,
    lifetime: int,
    left: int,
    served: bool,
) -> None:
    store = CredentialStore(broker_home)
    seeded = _seed(store, "dev", lifetime, left)
    assert fresh_enough(store.cached("dev"), datetime.now(UTC)) is served
    # Served: by the fast path alone (it reads no configuration; the full path would fail on
    # the missing one). Not served: the full path, not signed in, asks for a login.
    no_config = {"BROKER_CONFIG": str(broker_home / "no-config")} if served else {}
    result = run_broker("credential-process", "--profile", "dev", env=no_config, timeout=30)
    if served:
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == seeded.to_process_json()
    else:
        assert result.returncode != 0 and result.stdout == ""
        assert "broker login corp" in result.stderr


def test_a_fifteen_minute_credential_is_minted_once_and_then_served(
    secret_service: None, broker_home: Path, tmp_path: Path, config: Path, run_broker
) -> None:
    store = CredentialStore(broker_home)
    run_login(LoginInput(provider="corp"), store=store, build=lambda _n: TestIdP(), ui=SilentUI())
    minter = CountingMinter(tmp_path / "mints.log", lifetime=15 * MINUTE)
    chain = Chain(store=store, minter=lambda _p: minter, provider=lambda _n: TestIdP())
    profile = Profile("ops", "corp", "444455556666", "Operator", "local", 900, None)
    first = chain.credentials(profile)
    assert chain.credentials(profile) == first
    assert minter.count() == 1
    # The CLI's fast path serves what the chain minted, as botocore asks again and again.
    for _ in range(2):
        result = run_broker("credential-process", "--profile", "ops")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["AccessKeyId"] == first.access_key_id
    assert minter.count() == 1


def test_an_entry_without_a_lifetime_counts_as_long_lived_on_both_paths(
    secret_service: None, broker_home: Path, config: Path, run_broker
) -> None:
    from broker.store.entries import encode_credentials, profile_key

    store = CredentialStore(broker_home)
    old = _seed(store, "dev", 12 * HOUR, 25 * MINUTE)
    store.keyring.set(
        store._key(profile_key("dev")), encode_credentials(old, store.revocation_stamp())
    )
    cached = store.cached("dev")
    assert cached is not None and cached.lifetime_seconds is None
    assert fresh_enough(cached, datetime.now(UTC))
    result = run_broker("credential-process", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AccessKeyId"] == old.access_key_id
