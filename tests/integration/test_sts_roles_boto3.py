"""boto3 against the real ASGI app (uvicorn on loopback) with roles from a PrincipalSource.

The directory is not wired into `broker serve` yet, so this runs the same application in a
uvicorn server started by the fixture, backed by a PrincipalSource over plain data, and
drives it with boto3: AssumeRole, chaining capped at 1 h, AssumeRoleWithWebIdentity with a
signed test token, and the engine's AccessDenied parsed by botocore.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import httpx
import pytest
import uvicorn
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from joserfc import jwt
from joserfc.jwk import RSAKey

from broker.server.app import create_app
from broker.server.query_api import StsService
from broker.sts.principals import WebIdentityProvider
from broker.sts.web_identity import WebIdentityVerifier
from tests.integration.conftest import free_port
from tests.state_support import embedded_state
from tests.unit.sts.principal_data import HOME, OTHER, Directory, allow, trust

pytestmark = pytest.mark.integration
ISSUER = "https://idp.example.com"
PROVIDER_ARN = f"arn:aws:iam::{HOME}:oidc-provider/idp.example.com"
KEY = RSAKey.generate_key(2048, parameters={"kid": "t1"})


@pytest.fixture(scope="module")
def app_server(tmp_path_factory) -> Iterator[tuple[str, StsService]]:
    home = tmp_path_factory.mktemp("roles")
    directory = Directory()
    chain = ("sts:AssumeRole", "sts:TagSession")
    directory.add_role(
        HOME,
        "Ops",
        trust({"AWS": f"arn:aws:iam::{HOME}:user/svc-ops"}, actions=chain),
        policies=[allow("sts:AssumeRole", f"arn:aws:iam::{OTHER}:role/Audit")],
        max_session=43_200,
    )
    directory.add_role(
        OTHER, "Audit", trust({"AWS": f"arn:aws:iam::{HOME}:role/Ops"}), max_session=43_200
    )
    directory.web_providers[(HOME, ISSUER)] = WebIdentityProvider(
        PROVIDER_ARN, ISSUER, ("ci",), f"{ISSUER}/jwks"
    )
    directory.add_role(
        HOME,
        "CI",
        trust({"Federated": PROVIDER_ARN}, actions=("sts:AssumeRoleWithWebIdentity",)),
        policies=[allow("s3:GetObject")],
    )
    jwks = {"keys": [{**KEY.as_dict(private=False), "kid": "t1", "use": "sig"}]}
    verifier = WebIdentityVerifier(
        httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=jwks)))
    )
    service = StsService.over(
        embedded_state(home),
        data=home,
        principals=directory,
        web_identity=verifier,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start within 20 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", service
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def client(url, creds=None, signed=True):
    kwargs = {}
    if creds:
        kwargs = {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds.get("SessionToken"),
        }
    config = Config(retries={"max_attempts": 1}, signature_version=None if signed else UNSIGNED)
    return boto3.client("sts", endpoint_url=url, region_name="us-east-1", config=config, **kwargs)


@pytest.fixture(scope="module")
def ops_key(app_server):
    _url, service = app_server
    record, secret = service.keys.create("svc-ops", HOME)
    return {"AccessKeyId": record.access_key_id, "SecretAccessKey": secret}


def test_assume_role_and_chain_cross_account_capped_at_one_hour(app_server, ops_key) -> None:
    url, _service = app_server
    first = client(url, ops_key).assume_role(
        RoleArn=f"arn:aws:iam::{HOME}:role/Ops",
        RoleSessionName="ops",
        DurationSeconds=43_200,
        Tags=[{"Key": "team", "Value": "blue"}],
        TransitiveTagKeys=["team"],
    )
    assert first["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{HOME}:assumed-role/Ops/ops"
    session = client(url, first["Credentials"])
    with pytest.raises(ClientError) as err:
        session.assume_role(
            RoleArn=f"arn:aws:iam::{OTHER}:role/Audit",
            RoleSessionName="audit",
            DurationSeconds=3601,
        )
    assert err.value.response["Error"]["Code"] == "ValidationError"
    assert "role chaining" in err.value.response["Error"]["Message"]
    chained = session.assume_role(
        RoleArn=f"arn:aws:iam::{OTHER}:role/Audit", RoleSessionName="audit"
    )
    lifetime = chained["Credentials"]["Expiration"] - datetime.now(UTC)
    assert lifetime <= timedelta(hours=1)
    who = client(url, chained["Credentials"]).get_caller_identity()
    assert who["Account"] == OTHER and who["Arn"].endswith("assumed-role/Audit/audit")


def test_access_denied_from_the_engine(app_server, ops_key) -> None:
    url, _service = app_server
    with pytest.raises(ClientError) as err:
        client(url, ops_key).assume_role(
            RoleArn=f"arn:aws:iam::{OTHER}:role/Audit", RoleSessionName="direct"
        )
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_assume_role_with_web_identity(app_server) -> None:
    url, service = app_server
    now = int(time.time())
    token = jwt.encode(
        {"alg": "RS256", "kid": "t1"},
        {"iss": ISSUER, "aud": "ci", "sub": "build@example.com", "iat": now, "exp": now + 300},
        KEY,
    )
    answer = client(url, signed=False).assume_role_with_web_identity(
        RoleArn=f"arn:aws:iam::{HOME}:role/CI", RoleSessionName="build", WebIdentityToken=token
    )
    assert answer["SubjectFromWebIdentityToken"] == "build@example.com"
    who = client(url, answer["Credentials"]).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{HOME}:assumed-role/CI/build"
    with pytest.raises(ClientError) as err:
        client(url, signed=False).assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{HOME}:role/CI",
            RoleSessionName="build",
            WebIdentityToken=token[:-6] + "AAAAAA",
        )
    assert err.value.response["Error"]["Code"] == "InvalidIdentityToken"
    assert service.audit.verify().events >= 5


def test_web_identity_session_scoped_down_to_deny_all(app_server) -> None:
    """PolicyArns on AssumeRoleWithWebIdentity: AWSDenyAll leaves the session nothing; an ARN
    that names no policy is refused."""
    from tests.integration.test_sts_directory import authorize

    url, _service = app_server
    now = int(time.time())

    def token() -> str:
        claims = {"iss": ISSUER, "aud": "ci", "sub": "b@example.com", "iat": now, "exp": now + 300}
        return jwt.encode({"alg": "RS256", "kid": "t1"}, claims, KEY)

    def assume(**extra):
        return client(url, signed=False).assume_role_with_web_identity(
            RoleArn=f"arn:aws:iam::{HOME}:role/CI",
            RoleSessionName="build",
            WebIdentityToken=token(),
            **extra,
        )

    query = {"action": "s3:GetObject", "resource": "arn:aws:s3:::example-builds/a"}
    plain = assume()["Credentials"]
    assert authorize(url, plain, query).json()["allowed"] is True
    denied = assume(PolicyArns=[{"arn": "arn:aws:iam::aws:policy/AWSDenyAll"}])
    assert denied["PackedPolicySize"] > 0
    assert authorize(url, denied["Credentials"], query).json()["allowed"] is False
    with pytest.raises(ClientError) as err:
        assume(PolicyArns=[{"arn": f"arn:aws:iam::{HOME}:policy/NoSuchPolicy"}])
    assert err.value.response["Error"]["Code"] == "MalformedPolicyDocument"
