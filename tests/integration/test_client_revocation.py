"""A session revoked with ``broker sts revoke`` is never served from the client's cache again:
not by ``credential-process`` (fast path or full), not through the AWS CLI, and ``broker
refresh`` replaces it. The client and ``broker serve`` share one BROKER_HOME (the local minter),
so the client sees the rules the STS enforces."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from jose import jwt

from broker.store.credential_store import CredentialStore
from tests.integration.conftest import BrokerServer
from tests.integration.test_aws_cli_e2e import (
    ALICE_PROFILE,
    _aws,
    _client_env,
    _sign_in_and_configure,
    served,
)

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

__all__ = ["served"]  # the fixture, shared with the end-to-end test


def _process(run_broker) -> dict[str, str]:
    result = run_broker("credential-process", "--profile", ALICE_PROFILE)
    assert result.returncode == 0, result.stderr
    doc: dict[str, str] = json.loads(result.stdout)
    return doc


def _revoke(run_broker, credentials: dict[str, str]) -> None:
    session_id = jwt.get_unverified_claims(credentials["SessionToken"])["jti"]
    revoked = run_broker("sts", "revoke", "--session", session_id)
    assert revoked.returncode == 0, revoked.stderr


def _refused_by_the_sts(server: BrokerServer, credentials: dict[str, str]) -> None:
    sts = boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    with pytest.raises(ClientError) as refused:
        sts.get_caller_identity()
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def test_a_revoked_session_is_replaced_by_credential_process_the_aws_cli_and_refresh(
    served: BrokerServer, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    aws_config = tmp_path / "aws" / "config"
    aws_config.parent.mkdir()
    _sign_in_and_configure(run_broker, "alice", aws_config)
    env = _client_env(aws_config, tmp_path)
    first_call = _aws(env, served, "sts", "get-caller-identity", "--profile", ALICE_PROFILE)
    assert first_call.returncode == 0, first_call.stderr
    first = _process(run_broker)
    assert _process(run_broker) == first  # cached (the fast path serves it)

    _revoke(run_broker, first)
    _refused_by_the_sts(served, first)
    second = _process(run_broker)
    assert second["AccessKeyId"] != first["AccessKeyId"]
    who = _aws(env, served, "sts", "get-caller-identity", "--profile", ALICE_PROFILE)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"].endswith("/alice@example.com")
    assert _process(run_broker) == second  # and cached again

    # The replacement was checked against the current rules: the fast path may serve it.
    store = CredentialStore(broker_home)
    found = store.cached(ALICE_PROFILE)
    assert found is not None and found[1] == store.revocation_stamp()

    # `broker refresh` replaces a revoked session too (it used to call it "still fresh").
    _revoke(run_broker, second)
    refreshed = run_broker("refresh", "--profile", ALICE_PROFILE)
    assert refreshed.returncode == 0, refreshed.stderr
    assert "refreshed" in refreshed.stderr
    third = store.credentials(ALICE_PROFILE)
    assert third is not None
    assert third.access_key_id not in (first["AccessKeyId"], second["AccessKeyId"])
    assert _process(run_broker)["AccessKeyId"] == third.access_key_id
    again = _aws(env, served, "sts", "get-caller-identity", "--profile", ALICE_PROFILE)
    assert again.returncode == 0, again.stderr
