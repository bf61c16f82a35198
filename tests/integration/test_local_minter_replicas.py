"""The local minter on a replica deployment: `broker credential-process` in a third process,
sharing only ``BROKER_DATABASE_URL`` with two `broker serve` replicas, mints credentials that
verify on both, whose mint is in the database's one audit chain, and that `broker sts revoke`
through either replica stops (the AWS CLI is then refused by both, and the client mints anew)
— through the real AWS CLI. This is the one state's "done when" test.

(Before, the local minter signed with its own data directory's key file and audited to its
file log whatever the URL said: its credentials failed at every replica.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import open_database
from broker.storage.migrations import upgrade
from tests.integration.conftest import start_server, stop_server
from tests.integration.test_aws_cli_e2e import (
    ALICE_PROFILE,
    PAYMENTS_PROD,
    _aws,
    _client_env,
    _sign_in_and_configure,
)
from tests.integration.test_sts_clients import sts

pytestmark = [pytest.mark.keyring, pytest.mark.integration]


@pytest.mark.parametrize("revoking", ["a", "b"])
def test_credential_process_mints_for_every_replica_and_revoke_through_either_stops_it(
    revoking: str,
    secret_service: None,
    fresh_database: str,
    broker_home: Path,
    tmp_path: Path,
    run_broker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = open_database(fresh_database, pool_size=1)
    upgrade(database)
    database.close()
    monkeypatch.setenv("BROKER_DATABASE_URL", fresh_database)
    replicas = [start_server(tmp_path / name) for name in ("a", "b")]
    try:
        (_, a), (_, b) = replicas
        aws_config = tmp_path / "aws" / "config"
        aws_config.parent.mkdir()
        _sign_in_and_configure(run_broker, "alice", aws_config, "--region", "eu-west-1")
        env = _client_env(aws_config, tmp_path)

        for server in (a, b):
            who = _aws(env, server, "sts", "get-caller-identity", "--profile", ALICE_PROFILE)
            assert who.returncode == 0, who.stderr
            assert json.loads(who.stdout)["Account"] == PAYMENTS_PROD
        assert not (broker_home / "sts" / "signing-keys.json").exists()
        assert not (broker_home / "audit").exists()

        database = open_database(fresh_database, pool_size=1)
        try:
            chain = SqlAuditLog(database)
            records = list(chain.records())
            assert chain.verify(expect_at_least=len(records)).ok
        finally:
            database.close()
        mints = [r for r in records if r.get("userAgent") == "broker/local-minter"]
        assert len(mints) == 1 and mints[0]["eventName"] == "AssumeRoleWithSAML"
        assert mints[0].get("errorCode") is None

        served = run_broker("credential-process", "--profile", ALICE_PROFILE)
        assert served.returncode == 0, served.stderr
        old = json.loads(served.stdout)
        old_keys = (old["AccessKeyId"], old["SecretAccessKey"], old["SessionToken"])

        minted = (mints[0].get("responseElements") or {}).get("credentials") or {}
        assert minted.get("accessKeyId") in (None, old["AccessKeyId"])  # that very credential

        for server in (a, b):  # the credential itself, as the AWS CLI sends it
            plain = {**env, "AWS_ACCESS_KEY_ID": old_keys[0], "AWS_SECRET_ACCESS_KEY": old_keys[1]}
            plain["AWS_SESSION_TOKEN"] = old_keys[2]
            who = _aws(plain, server, "sts", "get-caller-identity")
            assert who.returncode == 0, who.stderr

        through = a if revoking == "a" else b
        revoked = through.cli("sts", "revoke", "--user", "alice")
        assert revoked.returncode == 0, revoked.stderr
        for server in (a, b):
            with pytest.raises(ClientError) as refused:
                sts(server, *old_keys).get_caller_identity()
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            denied = _aws(plain, server, "sts", "get-caller-identity")
            assert denied.returncode != 0 and "AccessDenied" in denied.stderr
        database = open_database(fresh_database, pool_size=1)
        try:
            chain = SqlAuditLog(database)
            names = [r.get("eventName") for r in chain.records()]
            assert "RevokeSessions" in names and chain.verify().ok  # the one chain
        finally:
            database.close()
        # The client never serves the revoked session again: it mints another.
        again = run_broker("credential-process", "--profile", ALICE_PROFILE)
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["AccessKeyId"] != old["AccessKeyId"]
    finally:
        for process, _server in replicas:
            stop_server(process)
