"""The headless refresher and the sign-in commands, on the real Secret Service."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest

from broker.client.chain import Chain
from broker.client.profiles import Profile
from broker.client.refresher import MAX_BACKOFF, Refresher
from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from providers.testing import SilentUI
from tests.client_support import CountingMinter, TestIdP, write_config
from tests.conftest import one_line

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

DEV = Profile("dev", "corp", "111122223333", "Developer", "local", 3600, None)
OPS = Profile("ops", "corp", "444455556666", "Operator", "local", 3600, None)


def _setup(home: Path, tmp: Path, idp: TestIdP) -> tuple[CredentialStore, CountingMinter]:
    store = CredentialStore(home)
    run_login(LoginInput(provider="corp"), store=store, build=lambda _n: idp, ui=SilentUI())
    return store, CountingMinter(tmp / "mints.log")


def test_refresher_remints_only_what_is_due(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    idp = TestIdP()
    store, minter = _setup(broker_home, tmp_path, idp)
    chain = Chain(store=store, minter=lambda _p: minter, provider=lambda _n: idp)
    first = chain.credentials(DEV)
    lines: list[str] = []
    refresher = Refresher(chain=chain, profiles=[DEV, OPS], report=lines.append)
    outcomes = refresher.round()
    assert [(o.profile, o.status) for o in outcomes] == [("dev", "fresh")]  # ops never used
    assert minter.count() == 1
    late = Chain(
        store=store,
        minter=lambda _p: minter,
        provider=lambda _n: idp,
        now=lambda: first.expiration - timedelta(minutes=10),
    )
    refresher = Refresher(chain=late, profiles=[DEV], report=lines.append, rng=random.Random(1))
    outcomes = refresher.round()
    assert [o.status for o in outcomes] == ["refreshed"]
    assert minter.count() == 2
    wait = refresher.next_wake(outcomes)
    assert timedelta(seconds=30) <= wait <= MAX_BACKOFF


def test_refresher_stops_a_profile_on_invalid_grant_and_says_so(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    idp = TestIdP(lifetime=60)  # the IdP session is at its end: minting needs a refresh
    store, minter = _setup(broker_home, tmp_path, idp)
    idp.revoked = True
    chain = Chain(store=store, minter=lambda _p: minter, provider=lambda _n: idp)
    from broker.minters.base import Credentials

    store.save_credentials(
        "dev",
        provider="corp",
        account=DEV.account,
        role=DEV.role,
        credentials=Credentials("BKIAOLD0000000000000", "x" * 40, "t", chain.now()),
    )
    lines: list[str] = []
    refresher = Refresher(chain=chain, profiles=[DEV], report=lines.append)
    assert [o.status for o in refresher.round()] == ["stopped"]
    assert set(refresher.stopped) == {"dev"}
    assert len(lines) == 1 and "stopped refreshing" in lines[0]
    assert "run `broker login corp`" in lines[0]
    assert refresher.round() == []  # not retried, never prompts
    assert minter.count() == 0
    # The person signs in again: the profile resumes without restarting the refresher.
    fresh_idp = TestIdP()
    run_login(LoginInput(provider="corp"), store=store, build=lambda _n: fresh_idp, ui=SilentUI())
    assert [o.status for o in refresher.round()] == ["refreshed"]
    assert any("signed in again; resuming" in line for line in lines)
    assert minter.count() == 1


def test_refresher_backs_off_when_the_idp_is_down_and_keeps_credentials(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    idp = TestIdP(lifetime=60)
    store, minter = _setup(broker_home, tmp_path, idp)
    idp.down = True
    chain = Chain(store=store, minter=lambda _p: minter, provider=lambda _n: idp)
    from broker.minters.base import Credentials

    # 14 minutes left: credential-process would ride out the outage; the refresher retries.
    old = Credentials("BKIAOLD0000000000000", "x" * 40, "t", chain.now() + timedelta(minutes=14))
    store.save_credentials(
        "dev",
        provider="corp",
        account=DEV.account,
        role=DEV.role,
        credentials=old,
        lifetime_seconds=DEV.duration,
    )
    lines: list[str] = []
    refresher = Refresher(chain=chain, profiles=[DEV], report=lines.append)
    assert [o.status for o in refresher.round()] == ["retrying"]
    assert refresher.backoff["dev"] == timedelta(seconds=30)
    assert refresher.round() == []  # waiting out the back-off
    kept = store.credentials("dev")
    assert kept is not None and kept.access_key_id == old.access_key_id
    assert "unreachable" in lines[0] and "retrying in 30 s" in lines[0]


@pytest.fixture
def config(broker_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = write_config(tmp_path / "config")
    monkeypatch.setenv("BROKER_CONFIG", str(directory))
    return directory


def test_whoami_shows_claims_and_never_tokens(
    secret_service: None, broker_home: Path, tmp_path: Path, config: Path, run_broker
) -> None:
    idp = TestIdP()
    store, _minter = _setup(broker_home, tmp_path, idp)
    session = store.session("corp")
    assert session is not None
    result = run_broker("whoami", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc[0]["email"] == "alice@example.com" and doc[0]["groups"] == ["engineers"]
    text = run_broker("whoami").stdout
    assert "alice@example.com" in text and "mfa       yes (pwd, otp)" in text
    for token in (session.refresh_token, session.id_token, session.access_token):
        assert token is not None
        assert token not in result.stdout + result.stderr + text


def test_whoami_when_signed_out_says_how_to_sign_in(config: Path, run_broker) -> None:
    result = run_broker("whoami")
    assert result.returncode == 6
    assert "run `broker login`" in one_line(result.stderr)


def test_providers_lists_configured_and_installed(config: Path, run_broker) -> None:
    result = run_broker("providers", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["configured"] == [
        {
            "name": "corp",
            "type": "oidc",
            "installed": "oidc" in doc["installed"],
            "signed_in": False,
        }
    ]


def test_login_with_an_unknown_provider_type_lists_the_installed_ones(
    tmp_path: Path, broker_home: Path, monkeypatch: pytest.MonkeyPatch, run_broker
) -> None:
    directory = write_config(tmp_path / "c2", '\n[providers.odd]\ntype = "kerberos"\n')
    monkeypatch.setenv("BROKER_CONFIG", str(directory))
    result = run_broker("login", "odd")
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert "unknown provider type 'kerberos'" in line and "installed:" in line


def test_a_refresh_that_names_another_person_is_refused_and_not_kept(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    """OIDC Core §12.2: the refreshed ID token's `sub` must equal the original one."""
    from broker.errors import AuthenticationError

    idp = TestIdP(lifetime=60)  # at its end: the next mint needs a refresh
    store, minter = _setup(broker_home, tmp_path, idp)
    idp.subject = "mallory"  # the IdP now answers the refresh for someone else
    chain = Chain(store=store, minter=lambda _p: minter, provider=lambda _n: idp)
    with pytest.raises(AuthenticationError, match=r"different identity; run `broker login corp`"):
        chain.credentials(DEV)
    assert idp.refreshes == 1
    assert minter.count() == 0
    kept = store.session("corp")
    assert kept is not None and kept.claims.subject == "alice"
