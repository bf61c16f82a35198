"""The whole path through real parts: sign in as a demo user through the embedded IdP, write
one AWS CLI profile per assignment, and let the real AWS CLI and boto3 call ``broker serve``
through ``credential_process`` — again after the cached credentials fall inside botocore's
refresh window — with every mint in the audit log.

The server and the client share one BROKER_HOME, so the minter's signing keys are the keys
the server verifies with, and both write the same audit chain.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from broker.store.credential_store import CredentialStore
from tests.conftest import CONFIG, REPO, one_line
from tests.integration.conftest import BrokerServer, start_server, stop_server

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

AWS = Path(sys.executable).with_name("aws")
COMMAND = f"{sys.executable} -m broker"
ALICE_PROFILE = "payments-prod.AdministratorAccess"
PAYMENTS_PROD = "444444444444"


@pytest.fixture
def served(secret_service: None, broker_home: Path) -> Iterator[BrokerServer]:
    """``broker serve`` on 127.0.0.1 over this test's BROKER_HOME."""
    process, server = start_server(broker_home)
    try:
        yield server
    finally:
        stop_server(process)


def _client_env(
    aws_config: Path, tmp_path: Path, region: str | None = "us-east-1"
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(aws_config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])]),
    )
    if region is not None:
        env["AWS_DEFAULT_REGION"] = region
    return env


def _aws(env: dict[str, str], server: BrokerServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AWS), *args, "--endpoint-url", server.url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def _sign_in_and_configure(run_broker, user: str, aws_config: Path, *extra: str) -> str:
    login = run_broker("login", "demo", "--user-hint", user)
    assert login.returncode == 0, login.stderr
    configured = run_broker(
        "configure", "aws", "--file", str(aws_config), "--command-path", COMMAND, *extra
    )
    assert configured.returncode == 0, configured.stderr
    return configured.stderr


def _mints(run_broker, role_fragment: str, *filters: str) -> list[dict]:
    queried = run_broker("audit", "query", "--event", "AssumeRoleWithSAML", *filters)
    assert queried.returncode == 0, queried.stderr
    events = [json.loads(line) for line in queried.stdout.splitlines() if line.strip()]
    return [e for e in events if role_fragment in json.dumps(e.get("requestParameters"))]


def test_alice_uses_an_assignment_profile_with_the_aws_cli_and_boto3(
    served: BrokerServer, broker_home: Path, tmp_path: Path, run_broker, monkeypatch
) -> None:
    aws_config = tmp_path / "aws" / "config"
    aws_config.parent.mkdir()
    aws_config.write_text("[profile mine]\nregion = eu-west-1\n")
    told = _sign_in_and_configure(run_broker, "alice", aws_config, "--region", "eu-west-1")
    assert f"wrote profile {ALICE_PROFILE}" in told
    text = aws_config.read_text()
    assert text.startswith("[profile mine]\nregion = eu-west-1\n")  # the rest is untouched
    assert (
        f"[profile {ALICE_PROFILE}]\n"
        f"credential_process = {COMMAND} credential-process --profile {ALICE_PROFILE}\n"
        "region = eu-west-1\n"
    ) in text
    assert "[profile payments-prod.ReadOnlyAccess]" in text  # through the engineering group
    assert aws_config.with_name("config.broker-backup").read_text() == (
        "[profile mine]\nregion = eu-west-1\n"
    )

    env = _client_env(aws_config, tmp_path, region=None)  # the profile's region is enough
    who = _aws(env, served, "sts", "get-caller-identity", "--profile", ALICE_PROFILE)
    assert who.returncode == 0, who.stderr
    identity = json.loads(who.stdout)
    assert identity["Account"] == PAYMENTS_PROD
    assert identity["Arn"].startswith(
        f"arn:aws:sts::{PAYMENTS_PROD}:assumed-role/AWSReservedSSO_AdministratorAccess_"
    )
    assert identity["Arn"].endswith("/alice@example.com")

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import boto3

    session = boto3.Session(profile_name=ALICE_PROFILE)
    sts = session.client("sts", endpoint_url=served.url)
    assert sts.get_caller_identity()["Arn"] == identity["Arn"]
    first = session.get_credentials().get_frozen_credentials()
    assert len(_mints(run_broker, "AWSReservedSSO_AdministratorAccess_")) == 1  # then cached

    # Age the cached entry into botocore's refresh window: the next call must mint again.
    store = CredentialStore(broker_home)
    cached = store.credentials(ALICE_PROFILE)
    assert cached is not None and cached.access_key_id == first.access_key
    _age(store)
    again = _aws(env, served, "sts", "get-caller-identity", "--profile", ALICE_PROFILE)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["Arn"] == identity["Arn"]
    renewed = store.credentials(ALICE_PROFILE)
    assert renewed is not None and renewed.access_key_id != first.access_key
    assert renewed.expiration - datetime.now(UTC) > timedelta(minutes=30)
    fresh = boto3.Session(profile_name=ALICE_PROFILE).client("sts", endpoint_url=served.url)
    assert fresh.get_caller_identity()["Arn"] == identity["Arn"]

    # The headless refresher resolves the assignment profile too.
    _age(store)
    refreshed = run_broker("refresh", "--profile", ALICE_PROFILE)
    assert refreshed.returncode == 0, refreshed.stderr
    latest = store.credentials(ALICE_PROFILE)
    assert latest is not None and latest.access_key_id != renewed.access_key_id

    mints = _mints(run_broker, "AWSReservedSSO_AdministratorAccess_", "--user", "alice@example.com")
    assert len(mints) == 3
    assert all(e["userIdentity"]["brokerUser"] == "alice@example.com" for e in mints), mints
    assert all(e.get("errorCode") is None for e in mints), mints
    verified = run_broker("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ok:")
    for secret in (renewed.secret_access_key, renewed.session_token):
        assert secret not in text and secret not in again.stderr


def _age(store: CredentialStore) -> None:
    """Move the cached entry's expiry 12 minutes out: inside botocore's refresh window."""
    cached = store.cached(ALICE_PROFILE)
    assert cached is not None
    row = store.read_index().profiles[ALICE_PROFILE]
    store.save_credentials(
        ALICE_PROFILE,
        provider=row.provider,
        account=row.account,
        role=row.role,
        credentials=dataclasses.replace(
            cached.credentials, expiration=datetime.now(UTC) + timedelta(minutes=12)
        ),
        lifetime_seconds=cached.lifetime_seconds,  # as minted: only the clock moved
    )


def test_oscar_without_assignments_gets_a_clear_error(
    served: BrokerServer, tmp_path: Path, run_broker, monkeypatch
) -> None:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    with (config / "broker.toml").open("a") as handle:  # a hand-written profile he lacks
        handle.write('\n[profiles.sneaky]\naccount = "444444444444"\nrole = "AdminRole"\n')
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    aws_config = tmp_path / "aws-config"
    told = _sign_in_and_configure(run_broker, "oscar", aws_config)
    assert "oscar has no account assignments" in told
    assert told.count("wrote profile") == 1 and "wrote profile sneaky" in told
    sneaky = run_broker("credential-process", "--profile", "sneaky")
    assert sneaky.returncode == 7 and sneaky.stdout == ""
    assert one_line(sneaky.stderr).startswith(
        "broker: error: oscar@example.com is not assigned AdminRole in 444444444444"
    )
    refusals = run_broker("audit", "query", "--user", "oscar@example.com").stdout.splitlines()
    assert [json.loads(e)["errorCode"] for e in refusals] == ["AccessDenied"]
    result = run_broker("credential-process", "--profile", ALICE_PROFILE)
    assert result.returncode == 3
    assert result.stdout == ""
    line = one_line(result.stderr)
    assert f"no profile {ALICE_PROFILE!r}" in line and "broker configure aws" in line


def _authorize(url: str, creds: dict[str, str], body: dict[str, object]) -> httpx.Response:
    data = json.dumps(body).encode()
    request = AWSRequest(method="POST", url=f"{url}/authorize", data=data)
    SigV4Auth(
        BotoCredentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]),
        "sts",
        "us-east-1",
    ).add_auth(request)
    headers = dict(request.prepare().headers.items())
    return httpx.post(f"{url}/authorize", content=data, headers=headers, timeout=30)


def test_mallory_contractor_role_works_but_the_scp_denies(
    served: BrokerServer, tmp_path: Path, run_broker
) -> None:
    aws_config = tmp_path / "aws-config"
    told = _sign_in_and_configure(run_broker, "mallory", aws_config)
    profile = "contractor-sandbox.ContractorDeveloper"
    assert f"wrote profile {profile}" in told
    env = _client_env(aws_config, tmp_path)
    who = _aws(env, served, "sts", "get-caller-identity", "--profile", profile)
    assert who.returncode == 0, who.stderr
    assert "assumed-role/AWSReservedSSO_ContractorDeveloper_" in json.loads(who.stdout)["Arn"]

    creds = json.loads(run_broker("credential-process", "--profile", profile).stdout)
    exported = run_broker("env", profile, "--format", "json")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["AWS_ACCESS_KEY_ID"] == creds["AccessKeyId"]
    ran = run_broker(
        "exec",
        profile,
        "--",
        str(AWS),
        "sts",
        "get-caller-identity",
        "--endpoint-url",
        served.url,
        "--query",
        "Arn",
        "--output",
        "text",
        env={"AWS_CONFIG_FILE": os.devnull, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == json.loads(who.stdout)["Arn"]
    bucket = "arn:aws:s3:::example-contractor-atlas/report.csv"
    allowed = _authorize(
        served.url,
        creds,
        {
            "action": "s3:GetObject",
            "resource": bucket,
            "context": {"aws:RequestedRegion": "eu-west-1"},
        },
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["allowed"] is True, allowed.json()
    denied = _authorize(
        served.url,
        creds,
        {
            "action": "s3:GetObject",
            "resource": bucket,
            "context": {"aws:RequestedRegion": "us-east-1"},
        },
    )
    assert denied.status_code == 200, denied.text
    assert denied.json()["allowed"] is False
    assert "OnlyIreland" in json.dumps(denied.json()["explanation"])


def test_a_removed_assignment_stops_being_served_at_the_next_miss(
    served: BrokerServer, tmp_path: Path, run_broker, monkeypatch
) -> None:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    aws_config = tmp_path / "aws-config"
    profile = "log-archive.ReadOnlyAccess"  # bob's one direct assignment
    told = _sign_in_and_configure(run_broker, "bob", aws_config)
    assert f"wrote profile {profile}" in told
    served_once = run_broker("credential-process", "--profile", profile)
    assert served_once.returncode == 0, served_once.stderr

    assignments = config / "directory" / "assignments.toml"
    text = assignments.read_text()
    direct = '[[assignments]]\nuser = "bob"\npermission_set = "ReadOnlyAccess"\n'
    direct += 'accounts = ["log-archive"]\n'
    assert direct in text
    assignments.write_text(text.replace(direct, ""))
    store = CredentialStore(Path(os.environ["BROKER_HOME"]))
    assert store.forget_profile(profile)  # the cache is gone: the next call is a miss

    refused = run_broker("credential-process", "--profile", profile)
    assert refused.returncode == 3, refused.stderr
    assert refused.stdout == ""
    line = one_line(refused.stderr)
    assert "bob no longer holds ReadOnlyAccess in log-archive" in line
    assert "--prune" in line

    pruned = run_broker(
        "configure", "aws", "--file", str(aws_config), "--command-path", COMMAND, "--prune"
    )
    assert pruned.returncode == 0, pruned.stderr
    assert f"removed profile {profile}" in pruned.stderr
    assert profile not in aws_config.read_text()


def test_many_helpers_at_once_on_an_assignment_profile_cause_one_mint(
    served: BrokerServer, tmp_path: Path, run_broker
) -> None:
    """Parallel helpers (terraform, ``xargs -P``) through the real minter and directory: each
    resolves the name on a miss, and the profile lock makes it one mint for all."""
    aws_config = tmp_path / "aws-config"
    profile = "contractor-sandbox.ContractorDeveloper"
    _sign_in_and_configure(run_broker, "mallory", aws_config)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    helpers = [
        subprocess.Popen(
            [sys.executable, "-m", "broker", "credential-process", "--profile", profile],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        for _ in range(8)
    ]
    answers = [helper.communicate(timeout=120) for helper in helpers]
    assert all(helper.returncode == 0 for helper in helpers), [err for _out, err in answers]
    keys = {json.loads(out)["AccessKeyId"] for out, _err in answers}
    assert len(keys) == 1
    assert len(_mints(run_broker, "AWSReservedSSO_ContractorDeveloper_")) == 1
