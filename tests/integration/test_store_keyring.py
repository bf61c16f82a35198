"""The credential store and chain against a real Secret Service (gnome-keyring on D-Bus)."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import signal
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.client.chain import Chain
from broker.errors import ProviderUnavailableError, ReauthenticationRequired
from broker.keyring_gate.home_id import home_id, scoped_key
from broker.minters.base import Credentials
from broker.signin import LoginInput, run_login, run_logout, run_whoami
from broker.store.credential_store import CredentialStore
from broker.store.keyring_store import KeyringSecretStore, KeyringStore
from providers.testing import SilentUI
from tests.chain_support import DEV
from tests.client_support import CountingMinter, TestIdP

pytestmark = [pytest.mark.keyring, pytest.mark.integration]


def _chain(store: CredentialStore, minter: CountingMinter, idp: TestIdP) -> Chain:
    return Chain(store=store, minter=lambda _p: minter, provider=lambda _n: idp)


def _login(store: CredentialStore, idp: TestIdP) -> None:
    run_login(LoginInput(provider="corp"), store=store, build=lambda _n: idp, ui=SilentUI())


def _signed_in(
    home: Path, tmp: Path, idp: TestIdP
) -> tuple[CredentialStore, TestIdP, CountingMinter]:
    store = CredentialStore(home)
    _login(store, idp)
    return store, idp, CountingMinter(tmp / "mints.log")


def _read_item(username: str, home: Path | None = None) -> str | None:
    """The raw item ``username`` (scoped to data directory ``home``'s id when given)."""
    import secretstorage

    if home is not None:
        username = scoped_key(home_id(home), username)

    with closing(secretstorage.dbus_init()) as connection:
        collection = secretstorage.Collection(connection)
        query = {"service": "access-broker", "username": username}
        for item in collection.search_items(query):
            return bytes(item.get_secret()).decode()
    return None


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots for p in root.rglob("*") if p.is_file()]


def test_secrets_are_in_the_keyring_and_nowhere_on_disk(
    secret_service: None, broker_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    store, idp, minter = _signed_in(broker_home, tmp_path, TestIdP())
    credentials = _chain(store, minter, idp).credentials(DEV)
    session = store.session("corp")
    assert session is not None and session.refresh_token and session.id_token
    secrets = [
        credentials.secret_access_key,
        credentials.session_token,
        session.refresh_token,
        session.id_token,
        session.access_token,
    ]
    profile_entry = _read_item("profile:dev", broker_home)
    session_entry = _read_item("session:corp", broker_home)
    assert profile_entry is not None and session_entry is not None
    assert credentials.secret_access_key in profile_entry
    assert session.refresh_token in session_entry
    files = _files_under(broker_home, home)
    assert any(p.name == "index.json" for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret is not None
            assert secret.encode() not in data, f"a secret leaked into {path}"
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, path


def test_cache_hit_then_one_mint_after_expiry(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    store, idp, minter = _signed_in(broker_home, tmp_path, TestIdP())
    chain = _chain(store, minter, idp)
    first = chain.credentials(DEV)
    assert chain.credentials(DEV) == first
    assert minter.count() == 1
    later = Chain(
        store=store,
        minter=lambda _p: minter,
        provider=lambda _n: idp,
        now=lambda: first.expiration - timedelta(minutes=19),
    )
    renewed = later.credentials(DEV)
    assert renewed.access_key_id != first.access_key_id
    assert minter.count() == 2


def test_ended_idp_session_is_refreshed_with_rotation(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    store, idp, minter = _signed_in(
        broker_home, tmp_path, TestIdP(lifetime=60)
    )  # inside the 2-minute margin: must refresh before minting
    old = store.session("corp")
    assert old is not None
    _chain(store, minter, idp).credentials(DEV)
    new = store.session("corp")
    assert new is not None
    assert idp.refreshes == 1
    assert new.refresh_token != old.refresh_token
    assert new.refresh_token == idp.issued_refresh_tokens[-1]


def test_revoked_refresh_token_says_run_login_and_mints_nothing(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    store, idp, minter = _signed_in(broker_home, tmp_path, TestIdP(lifetime=60))
    idp.revoked = True
    with pytest.raises(ReauthenticationRequired) as caught:
        _chain(store, minter, idp).credentials(DEV)
    assert "run `broker login corp`" in str(caught.value)
    assert caught.value.code == "invalid_grant"
    assert minter.count() == 0


def test_not_signed_in_fails_at_once_with_the_login_command(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    store = CredentialStore(broker_home)
    minter = CountingMinter(tmp_path / "mints.log")
    with pytest.raises(ReauthenticationRequired, match=r"run `broker login corp`"):
        _chain(store, minter, TestIdP()).credentials(DEV)


def _expired(store: CredentialStore) -> None:
    store.save_credentials(
        "dev",
        provider="corp",
        account=DEV.account,
        role=DEV.role,
        credentials=Credentials(
            access_key_id="BKIAEXPIRED000000000",
            secret_access_key="x" * 40,
            session_token="old",
            expiration=datetime.now(UTC) - timedelta(minutes=1),
        ),
    )


def _signed_in_with_an_expired_cache(home: Path, tmp: Path) -> tuple[CredentialStore, Path]:
    store = CredentialStore(home)
    _login(store, TestIdP())
    _expired(store)
    return store, tmp / "mints.log"


def _worker(home: str, log: str, delay: float, out: str) -> None:
    store = CredentialStore(Path(home))
    chain = _chain(store, CountingMinter(Path(log), delay=delay), TestIdP())
    credentials = chain.credentials(DEV)
    Path(out).write_text(credentials.access_key_id)


def test_fifty_concurrent_callers_on_an_expired_cache_mint_once(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    _store, log = _signed_in_with_an_expired_cache(broker_home, tmp_path)
    ctx = multiprocessing.get_context("fork")
    procs = [
        ctx.Process(target=_worker, args=(str(broker_home), str(log), 0.2, str(tmp_path / f"o{i}")))
        for i in range(50)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * 50
    keys = {(tmp_path / f"o{i}").read_text() for i in range(50)}
    assert len(keys) == 1 and keys != {"BKIAEXPIRED000000000"}
    assert CountingMinter(log).count() == 1


def test_kill_9_mid_refresh_leaves_an_intact_entry_and_the_next_call_recovers(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    store, log = _signed_in_with_an_expired_cache(broker_home, tmp_path)
    ctx = multiprocessing.get_context("fork")
    victim = ctx.Process(
        target=_worker, args=(str(broker_home), str(log), 30.0, str(tmp_path / "v"))
    )
    victim.start()
    deadline = time.monotonic() + 30
    while CountingMinter(log).count() == 0:  # it holds the lock and is minting
        assert time.monotonic() < deadline, "the victim never started minting"
        time.sleep(0.05)
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(timeout=10)
    assert victim.exitcode == -signal.SIGKILL
    survivor = store.credentials("dev")
    assert survivor is not None and survivor.access_key_id == "BKIAEXPIRED000000000"
    started = time.monotonic()
    credentials = _chain(store, CountingMinter(log), TestIdP()).credentials(DEV)
    assert time.monotonic() - started < 10  # the kernel released the dead holder's lock
    assert credentials.seconds_left() > 3000
    assert store.credentials("dev") == credentials
    assert CountingMinter(log).count() == 2


def test_login_whoami_logout(secret_service: None, broker_home: Path, tmp_path: Path) -> None:
    store = CredentialStore(broker_home)
    idp = TestIdP()
    _login(store, idp)
    _chain(store, CountingMinter(tmp_path / "m.log"), idp).credentials(DEV)
    rows = run_whoami(store)
    assert [r.claims.email for r in rows] == ["alice@example.com"]
    removed = run_logout("corp", store=store, build=lambda _n: idp, warn=print)
    assert removed == ["dev"]
    assert idp.signed_out == ["alice"]
    assert run_whoami(store) == []
    assert _read_item("session:corp", broker_home) is None
    assert _read_item("profile:dev", broker_home) is None


def test_a_different_person_signing_in_drops_the_previous_persons_credentials(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    store = CredentialStore(broker_home)
    alice = TestIdP(subject="alice")
    _login(store, alice)
    _chain(store, CountingMinter(tmp_path / "m.log"), alice).credentials(DEV)
    _login(store, TestIdP(subject="bob"))
    assert store.credentials("dev") is None
    assert [r.claims.subject for r in run_whoami(store)] == ["bob"]


def test_secret_store_seam_keeps_provider_secrets_namespaced(secret_service: None) -> None:
    keyring = KeyringStore()
    demo = KeyringSecretStore(keyring, "demo")
    other = KeyringSecretStore(keyring, "other")
    assert demo.get_secret("signing-key") is None
    demo.set_secret("signing-key", "k1")
    demo.set_secret("signing-key", "k2")
    assert demo.get_secret("signing-key") == "k2"
    assert other.get_secret("signing-key") is None
    assert _read_item("secret:demo:signing-key") == "k2"


def test_a_profile_pointed_at_another_role_is_reminted(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    store, idp, minter = _signed_in(broker_home, tmp_path, TestIdP())
    chain = _chain(store, minter, idp)
    first = chain.credentials(DEV)
    edited = dataclasses.replace(DEV, role="Auditor")
    second = chain.credentials(edited)
    assert second.access_key_id != first.access_key_id
    assert store.read_index().profiles["dev"].role == "Auditor"
    assert chain.credentials(edited) == second
    assert minter.count() == 2


@pytest.mark.parametrize(("minutes_left", "served"), [(14, True), (9, False)])
def test_an_idp_outage_serves_cached_credentials_botocore_would_still_accept(
    secret_service: None, broker_home: Path, tmp_path: Path, minutes_left: int, served: bool
) -> None:
    store, idp, minter = _signed_in(broker_home, tmp_path, TestIdP(lifetime=60))
    idp.down = True
    old = Credentials(
        "BKIAOLD0000000000000",
        "x" * 40,
        "t",
        datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes_left),
    )
    store.save_credentials(
        "dev",
        provider="corp",
        account=DEV.account,
        role=DEV.role,
        credentials=old,
        lifetime_seconds=DEV.duration,  # an hour-long credential near its end
    )
    warnings: list[str] = []
    chain = Chain(
        store=store, minter=lambda _p: minter, provider=lambda _n: idp, warn=warnings.append
    )
    if served:
        assert chain.credentials(DEV).access_key_id == old.access_key_id
        assert "unreachable" in warnings[0] and "cached credentials" in warnings[0]
    else:
        with pytest.raises(ProviderUnavailableError):
            chain.credentials(DEV)
    assert minter.count() == 0


def test_values_over_the_backend_limit_are_split_and_replaced_whole(secret_service: None) -> None:
    """Windows' 2,560-byte cap, exercised on the real Secret Service with a small limit."""
    store = KeyringStore(max_chars=100)
    big = "".join(chr(ord("a") + i % 26) for i in range(950))
    store.set("session:corp", big)
    assert store.get("session:corp") == big
    head = _read_item("session:corp")
    assert head is not None and head.startswith("broker-parts ")
    bigger = big.upper() * 2
    store.set("session:corp", bigger)
    assert store.get("session:corp") == bigger
    store.set("session:corp", "small")
    assert store.get("session:corp") == "small"
    assert _count_items() == 1  # every part of earlier generations is gone
    assert store.delete("session:corp") is True
    assert _count_items() == 0


def _count_items() -> int:
    import secretstorage

    with closing(secretstorage.dbus_init()) as connection:
        collection = secretstorage.Collection(connection)
        return len(list(collection.search_items({"service": "access-broker"})))


# -- one keyring, several data directories -------------------------------------------------


def test_two_data_directories_keep_their_own_credentials_under_one_profile_name(
    secret_service: None, tmp_path: Path
) -> None:
    first_home, second_home = tmp_path / "first", tmp_path / "second"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, idp1, minter1 = _signed_in(first_home, tmp_path / "a", TestIdP())
    second, idp2, minter2 = _signed_in(second_home, tmp_path / "b", TestIdP())
    one = _chain(first, minter1, idp1).credentials(DEV)
    two = _chain(second, minter2, idp2).credentials(DEV)
    assert one.access_key_id != two.access_key_id
    # Each reads back its own, from a fresh store object (nothing cached in memory).
    assert CredentialStore(first_home).credentials("dev") == one
    assert CredentialStore(second_home).credentials("dev") == two
    assert home_id(first_home) != home_id(second_home)
    # Forgetting one directory's profile leaves the other's in place.
    assert CredentialStore(first_home).forget_profile("dev")
    assert CredentialStore(first_home).credentials("dev") is None
    assert CredentialStore(second_home).credentials("dev") == two


def test_the_id_survives_moving_the_data_directory(secret_service: None, tmp_path: Path) -> None:
    store, idp, minter = _signed_in(tmp_path / "before", tmp_path, TestIdP())
    minted = _chain(store, minter, idp).credentials(DEV)
    (tmp_path / "before").rename(tmp_path / "after")
    assert CredentialStore(tmp_path / "after").credentials("dev") == minted


def test_entries_from_before_the_id_are_adopted_only_when_the_index_vouches(
    secret_service: None, tmp_path: Path
) -> None:
    from broker.store.entries import encode_credentials

    home = tmp_path / "home"
    store, idp, minter = _signed_in(home, tmp_path, TestIdP())
    minted = _chain(store, minter, idp).credentials(DEV)
    keyring = KeyringStore()
    # As an earlier version left them: unscoped names.
    keyring.set("profile:dev", keyring.get(scoped_key(home_id(home), "profile:dev")) or "")
    keyring.delete(scoped_key(home_id(home), "profile:dev"))
    assert CredentialStore(home).credentials("dev") == minted  # adopted: the row matches
    assert _read_item("profile:dev") is None and _read_item("profile:dev", home) is not None
    # Another directory's old entry (another access key id) is not taken for ours.
    foreign = dataclasses.replace(minted, access_key_id="ABKX" + "9" * 16)
    keyring.set("profile:dev", encode_credentials(foreign, "-"))
    keyring.delete(scoped_key(home_id(home), "profile:dev"))
    assert CredentialStore(home).credentials("dev") is None
    assert _read_item("profile:dev") is not None  # left for its owner


def test_logout_also_removes_this_directorys_entries_from_before_the_id(
    secret_service: None, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    store, idp, minter = _signed_in(home, tmp_path, TestIdP())
    _chain(store, minter, idp).credentials(DEV)
    keyring = KeyringStore()
    for key in ("profile:dev", "session:corp"):  # as an earlier version left them
        scoped = scoped_key(home_id(home), key)
        keyring.set(key, keyring.get(scoped) or "")
        keyring.delete(scoped)
    assert CredentialStore(home).forget_session("corp") == ["dev"]
    assert _read_item("profile:dev") is None and _read_item("session:corp") is None
