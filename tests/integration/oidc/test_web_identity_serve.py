"""AssumeRoleWithWebIdentity through ``broker serve`` with ID tokens from the real
``oidc-provider`` peer, asked by boto3 and by the AWS CLI: the directory's IAM OIDC provider
entry (identity-providers.toml) and a role trusting it are all that is configured."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from providers.base import SignInOptions
from providers.oidc.provider import OIDCProvider
from tests.conftest import CONFIG
from tests.integration.conftest import BrokerServer, start_server, stop_server
from tests.integration.oidc.conftest import Peer, Person
from tests.state_support import audit_text
from tests.unit.oidc.fakes import make_context

pytestmark = pytest.mark.integration

SANDBOX = "666666666666"
ROLE = f"arn:aws:iam::{SANDBOX}:role/peer-deployer"
AWS = Path(sys.executable).with_name("aws")


@pytest.fixture(scope="module")
def served(oidc_peer: Peer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerServer]:
    """``broker serve`` on a config whose sandbox account trusts the peer for broker-rs256."""
    root = tmp_path_factory.mktemp("federated")
    config = root / "config"
    shutil.copytree(CONFIG, config)
    host = oidc_peer.issuer.removeprefix("http://")
    arn = f"arn:aws:iam::{SANDBOX}:oidc-provider/{host}"
    with (config / "directory" / "identity-providers.toml").open("a") as handle:
        handle.write(
            f'\n[[oidc_providers]]\naccount = "sandbox"\nurl = "{oidc_peer.issuer}"\n'
            'client_ids = ["broker-rs256"]\nalgorithms = ["RS256"]\n'
        )
    with (config / "directory" / "roles.toml").open("a") as handle:
        handle.write(
            '\n[[roles]]\naccount = "sandbox"\nname = "peer-deployer"\n'
            'trust_policy = "trust-peer"\npolicies = ["ReadOnlyAccess"]\n'
        )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{host}:aud": "broker-rs256", f"{host}:sub": "alice"}
                },
            }
        ],
    }
    (config / "policies" / "trust-peer.json").write_text(json.dumps(trust))
    process, server = start_server(root / "home", config)
    try:
        yield server
    finally:
        stop_server(process)


def peer_token(oidc_peer: Peer, tmp_path: Path, login: str, client_id: str) -> str:
    table = {"type": "oidc", "issuer": oidc_peer.issuer, "client_id": client_id}
    provider = OIDCProvider.from_config("corp", table, make_context(tmp_path / client_id / login))
    try:
        return provider.sign_in(SignInOptions(ui=Person(login), timeout=30)).id_token
    finally:
        provider.close()


@pytest.fixture(scope="module")
def tokens(oidc_peer: Peer, tmp_path_factory) -> dict[str, str]:
    where = tmp_path_factory.mktemp("tokens")
    return {
        "alice": peer_token(oidc_peer, where, "alice", "broker-rs256"),
        "bob": peer_token(oidc_peer, where, "bob", "broker-rs256"),
        "alice-es256": peer_token(oidc_peer, where, "alice", "broker-es256"),
    }


def anonymous(server: BrokerServer):
    config = Config(signature_version=UNSIGNED, retries={"max_attempts": 1})
    return boto3.client("sts", endpoint_url=server.url, region_name="us-east-1", config=config)


def assume(server: BrokerServer, token: str, role: str = ROLE, **extra):
    return anonymous(server).assume_role_with_web_identity(
        RoleArn=role, RoleSessionName="peer-session", WebIdentityToken=token, **extra
    )


def refused(server: BrokerServer, token: str, role: str = ROLE) -> str:
    with pytest.raises(ClientError) as err:
        assume(server, token, role)
    return str(err.value.response["Error"]["Code"])


def test_boto3_gets_a_session_for_a_peer_token(served, oidc_peer, tokens) -> None:
    answer = assume(served, tokens["alice"], DurationSeconds=900)
    assert answer["SubjectFromWebIdentityToken"] == "alice"
    assert answer["Audience"] == "broker-rs256"
    assert answer["Provider"] == oidc_peer.issuer.removeprefix("http://")
    creds = answer["Credentials"]
    who = boto3.client(
        "sts",
        endpoint_url=served.url,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    ).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{SANDBOX}:assumed-role/peer-deployer/peer-session"
    log = audit_text(served.home)
    assert '"eventName":"AssumeRoleWithWebIdentity"' in log and tokens["alice"] not in log


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_refusals_carry_sts_codes(served, tokens) -> None:
    assert refused(served, tokens["bob"]) == "AccessDenied"  # trust condition on sub
    assert refused(served, tokens["alice-es256"]) == "InvalidIdentityToken"  # unlisted aud
    assert refused(served, tampered(tokens["alice"])) == "InvalidIdentityToken"
    # The same issuer is not trusted by another account: no provider entry there.
    other = "arn:aws:iam::111111111111:role/BreakGlass"
    assert refused(served, tokens["alice"], other) == "InvalidIdentityToken"
    # The shipped demo role trusts the embedded IdP's issuer, not this one.
    demo = f"arn:aws:iam::{SANDBOX}:role/demo-web-identity"
    assert refused(served, tokens["alice"], demo) == "AccessDenied"


def test_aws_cli_assume_role_with_web_identity(served, tokens, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_DEFAULT_REGION": "us-east-1",
    }

    def cli(token: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(AWS), "sts", "assume-role-with-web-identity", "--endpoint-url", served.url,
                "--role-arn", ROLE, "--role-session-name", "cli-session",
                "--web-identity-token", token, "--output", "json",
            ],
            capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    ok = cli(tokens["alice"])
    assert ok.returncode == 0, ok.stderr
    answer = json.loads(ok.stdout)
    assert answer["AssumedRoleUser"]["Arn"].endswith(":assumed-role/peer-deployer/cli-session")
    assert answer["Credentials"]["AccessKeyId"] and answer["SubjectFromWebIdentityToken"] == "alice"
    bad = cli(tampered(tokens["alice"]))
    assert bad.returncode != 0 and "InvalidIdentityToken" in bad.stderr
