"""The ``[providers.<name>]`` table of an OIDC provider: strict, every problem at once."""

from __future__ import annotations

import pytest

from broker.config.schema import ConfigIssues
from broker.errors import ConfigError
from providers.oidc.provider import OIDCProvider
from providers.oidc.settings import load_settings, secret_key
from tests.unit.oidc.fakes import MemorySecrets, make_context

BASE = {"type": "oidc", "issuer": "https://idp.example.com", "client_id": "broker"}


def test_defaults() -> None:
    settings = load_settings("corp", BASE)
    assert settings.scopes == ("openid", "email", "profile", "offline_access")
    assert settings.algorithms == ("RS256", "PS256", "ES256")
    assert settings.client_auth == "none"


@pytest.mark.parametrize("alg", ["HS256", "none", "HS512"])
def test_symmetric_or_none_algorithms_are_refused(alg: str) -> None:
    with pytest.raises(ConfigIssues, match=r"providers\.corp\.algorithms\[1\]"):
        load_settings("corp", {**BASE, "algorithms": ["RS256", alg]})


def test_every_problem_is_reported() -> None:
    table = {
        **BASE,
        "issuer": "http://idp.example.com",
        "scopes": ["email"],
        "client_secret": "s3cret",
        "leeway": 3600,
    }
    with pytest.raises(ConfigIssues) as caught:
        load_settings("corp", table)
    keys = {issue.key for issue in caught.value.issues}
    assert "providers.corp.client_secret" in keys  # a secret is never a config key
    assert "s3cret" not in str(caught.value)
    table.pop("client_secret")
    with pytest.raises(ConfigIssues) as caught:
        load_settings("corp", table)
    keys = {issue.key for issue in caught.value.issues}
    assert keys == {"providers.corp.issuer", "providers.corp.scopes", "providers.corp.leeway"}


def test_trusted_audiences_default_empty_and_must_not_repeat_the_client_id() -> None:
    assert load_settings("corp", BASE).trusted_audiences == ()
    with pytest.raises(ConfigIssues, match=r"providers\.corp\.trusted_audiences\[1\]"):
        load_settings("corp", {**BASE, "trusted_audiences": ["api", BASE["client_id"]]})


def test_missing_required_keys() -> None:
    with pytest.raises(ConfigIssues) as caught:
        load_settings("corp", {"type": "oidc"})
    assert {i.key for i in caught.value.issues} == {
        "providers.corp.issuer",
        "providers.corp.client_id",
    }


def test_confidential_client_secret_comes_from_the_keyring(tmp_path) -> None:
    table = {**BASE, "client_auth": "client_secret_basic"}
    with pytest.raises(ConfigError, match="keyring"):
        OIDCProvider.from_config("corp", table, make_context(tmp_path))
    secrets = MemorySecrets()
    secrets.set_secret(secret_key("corp"), "s3cret")
    provider = OIDCProvider.from_config("corp", table, make_context(tmp_path, secrets))
    assert provider.capabilities().browser
