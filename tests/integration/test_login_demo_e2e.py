"""End to end with the embedded development IdP: ``broker login demo --user-hint alice`` as a
real process, then what it stored, a refresh from another process, and ``logout``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from broker.client.chain import Chain
from broker.config import load_config
from broker.errors import ConfigError
from broker.signin import provider_builder
from broker.store.credential_store import CredentialStore
from tests.conftest import CONFIG

pytestmark = [pytest.mark.keyring, pytest.mark.integration]


def _no_minter(_profile: object) -> object:
    raise ConfigError("this test mints nothing: only the IdP session is refreshed")


def test_login_whoami_refresh_logout_with_the_demo_idp(
    secret_service: None, broker_home: Path, tmp_path: Path, monkeypatch, run_broker
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    result = run_broker("login", "demo", "--user-hint", "alice", env={"HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Signed in to demo as alice@example.com." in result.stderr

    who = run_broker("whoami", "--json")
    assert who.returncode == 0, who.stderr
    [claims] = json.loads(who.stdout)
    assert claims["email"] == "alice@example.com" and claims["provider"] == "demo"
    assert "platform-admins" in claims["groups"]

    store = CredentialStore(broker_home)
    session = store.session("demo")
    assert session is not None and session.refresh_token and session.id_token
    secrets = [session.refresh_token, session.id_token, session.access_token]
    for path in [p for root in (broker_home, home) for p in root.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        for secret in secrets:
            assert secret is not None
            assert secret.encode() not in data, f"a token leaked into {path}"
    assert session.refresh_token not in who.stdout + result.stderr

    # Another process (this one) refreshes the session near its end, rotating the token.
    providers = provider_builder(load_config(CONFIG), store)
    chain = Chain(
        store=store,
        minter=_no_minter,  # type: ignore[arg-type]
        provider=providers,
        now=lambda: session.expires_at - timedelta(minutes=1),
    )
    try:
        renewed = chain.identity("demo")
        assert providers("demo") is providers("demo")  # built once, reused
    finally:
        providers.close()
    assert renewed.refresh_token and renewed.refresh_token != session.refresh_token
    assert renewed.claims.subject == session.claims.subject
    stored = store.session("demo")
    assert stored is not None and stored.refresh_token == renewed.refresh_token

    out = run_broker("logout", "demo")
    assert out.returncode == 0, out.stderr
    assert store.session("demo") is None
    assert run_broker("whoami").returncode == 6
