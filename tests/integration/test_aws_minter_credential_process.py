"""Credentials from the upstream STS (moto) are stored and served exactly like local ones:
the chain mints them through the aws minter into the keyring, and ``broker credential-process``
then prints them as a whole process, as the AWS CLI runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.client.chain import Chain
from broker.client.profiles import find_profile
from broker.config import load_config
from broker.minters.aws import AwsMinter
from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from providers.testing import SilentUI
from tests.client_support import TestIdP, write_config
from tests.conftest import RunBroker
from tests.integration.moto_peer import MotoPeer
from tests.minter_support import MemoryAudit, settings

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

PROFILE = (
    '[profiles.upstream]\naccount = "111122223333"\nrole = "AllowedReadOnly"\nminter = "aws"\n'
)


def test_upstream_credentials_served_by_credential_process(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    moto_peer: MotoPeer,
    upstream_profile: str,
    run_broker: RunBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path / "config", "\n" + PROFILE)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    idp = TestIdP()
    store = CredentialStore(broker_home)
    run_login(LoginInput(provider="corp"), store=store, build=lambda _n: idp, ui=SilentUI())
    audit = MemoryAudit()
    minter = AwsMinter(settings(profile=upstream_profile, endpoint_url=moto_peer.url), audit)
    chain = Chain(store=store, minter=lambda _p: minter, provider=lambda _n: idp)
    minted = chain.credentials(find_profile(load_config(), "upstream"))
    assert minted.access_key_id.startswith("ASIA")  # AWS's own, not the broker's prefix
    served = run_broker("credential-process", "--profile", "upstream")
    assert served.returncode == 0, served.stderr
    assert json.loads(served.stdout) == minted.to_process_json()
    assert [event["eventName"] for event in audit.events] == ["AssumeRole"]
