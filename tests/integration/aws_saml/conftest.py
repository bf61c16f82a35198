"""The fixtures of the SAML-into-AWS tests: the pysaml2 IdP peer whose one SP is AWS (one per
test module), a sign-in accepted from its captured response, and the broker CLI configured
for it over the real keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.store.credential_store import CredentialStore
from providers.base import SignInResult
from tests.integration.aws_saml.support import (
    AWS_AUDIENCE,
    AWS_SIGNIN,
    captured,
    saml_provider,
    write_config,
)
from tests.integration.saml_peer import RunningIdP, start_idp
from tests.saml_forge import KeyPair, make_keypair


@pytest.fixture(scope="module")
def idp_keys() -> KeyPair:
    return make_keypair("idp.example.test")


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory, idp_keys: KeyPair) -> Iterator[RunningIdP]:
    # The IdP knows one SP: AWS (its entity id and sign-in endpoint), as its AWS application does.
    workdir = tmp_path_factory.mktemp("idp")
    with start_idp(workdir, idp_keys, sp_entity_id=AWS_AUDIENCE, sp_acs=AWS_SIGNIN) as running:
        yield running


@pytest.fixture(scope="module")
def signed_in(idp: RunningIdP, tmp_path_factory: pytest.TempPathFactory) -> SignInResult:
    provider = saml_provider(idp, tmp_path_factory.mktemp("sp"))
    return provider.accept_captured(captured(idp))  # type: ignore[no-any-return]


@pytest.fixture
def cli_store(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    idp: RunningIdP,
    moto_federation: str,
    monkeypatch: pytest.MonkeyPatch,
) -> CredentialStore:
    """The broker CLI configured with provider ``corp`` (aws_federation) and profile ``dev``
    (dana's role through moto), over the real keyring."""
    monkeypatch.setenv(
        "BROKER_CONFIG", str(write_config(tmp_path / "config", idp, moto_federation))
    )
    return CredentialStore(broker_home)
