"""The ``aws-web-identity`` minter with ID tokens from the real ``oidc-provider`` peer and
moto's STS server answering AssumeRoleWithWebIdentity (no AWS credentials of the broker's).

moto checks the wire format, not the token: the broker's own checks (the provider's opt-in, the
sign-in's expiry, the profile's role, the duration) are what these tests hold it to, and each
refusal must happen before AWS is asked.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from broker.errors import StsError
from broker.minters.aws_federation import FederatedTarget, unsigned_client
from broker.minters.aws_web_identity import AwsWebIdentityMinter
from broker.minters.base import Credentials, MintRequest
from broker.minters.testing import MinterConformance
from providers.base import SignInOptions, SignInResult
from providers.oidc.provider import OIDCProvider
from tests.integration.oidc.conftest import Peer, Person
from tests.minter_support import MemoryAudit
from tests.unit.oidc.fakes import make_context

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/WebDeployer"
AWS = Path(sys.executable).with_name("aws")


@pytest.fixture(scope="module")
def signed_in(oidc_peer: Peer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInResult]:
    """alice's real sign-in at the peer, through a provider that opted in to AWS federation."""
    table = {
        "type": "oidc",
        "issuer": oidc_peer.issuer,
        "client_id": "broker-rs256",
        "aws_federation": True,
    }
    provider = OIDCProvider.from_config(
        "corp", table, make_context(tmp_path_factory.mktemp("web-identity"))
    )
    try:
        yield provider.sign_in(SignInOptions(ui=Person("alice"), timeout=30))
    finally:
        provider.close()


def _refuse_calls(_region: str, _endpoint: str | None) -> Any:
    raise AssertionError("AWS was asked although the broker's own checks should have refused")


def _minter(
    sts_url: str, audit: MemoryAudit, *, providers: frozenset[str] = frozenset({"corp"})
) -> AwsWebIdentityMinter:
    base = AwsWebIdentityMinter(audit, providers)
    aimed = base.aimed_at(FederatedTarget(role_arn=ROLE_ARN, endpoint_url=sts_url))
    assert isinstance(aimed, AwsWebIdentityMinter)
    return aimed


def _caller_arn(sts_url: str, credentials: Credentials) -> str:
    client = botocore.session.Session().create_client(
        "sts",
        region_name="us-east-1",
        endpoint_url=sts_url,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    arn: str = client.get_caller_identity()["Arn"]
    return arn


class TestConformance(MinterConformance):
    @pytest.fixture
    def audit(self) -> MemoryAudit:
        return MemoryAudit()

    @pytest.fixture
    def minter(self, moto_federation: str, audit: MemoryAudit) -> AwsWebIdentityMinter:
        return _minter(moto_federation, audit)

    @pytest.fixture
    def audit_events(self, audit: MemoryAudit) -> Any:
        return lambda: audit.events

    @pytest.fixture
    def broken_minter(self, moto_federation: str) -> AwsWebIdentityMinter:
        return _minter(moto_federation, MemoryAudit(broken=True))

    @pytest.fixture
    def identity(self, signed_in: SignInResult) -> SignInResult:
        return signed_in

    @pytest.fixture
    def assigned(self) -> MintRequest:
        return MintRequest(ACCOUNT, "WebDeployer", 900)

    @pytest.fixture
    def unassigned(self) -> MintRequest:
        return MintRequest(ACCOUNT, "SomeoneElsesRole", 900)

    @pytest.fixture
    def role_maximum(self) -> int:
        return 43_200


def test_the_minted_session_is_the_role_at_aws_and_the_audit_holds_no_token(
    moto_federation: str, signed_in: SignInResult
) -> None:
    audit = MemoryAudit()
    credentials = _minter(moto_federation, audit).mint(
        signed_in, MintRequest(ACCOUNT, "WebDeployer")
    )
    assert credentials.access_key_id.startswith("ASIA")
    assert _caller_arn(moto_federation, credentials).startswith(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/WebDeployer/"
    )
    (event,) = audit.events
    assert event["eventName"] == "AssumeRoleWithWebIdentity"
    assert event["requestParameters"]["RoleArn"] == ROLE_ARN
    assert event["userIdentity"]["identityProvider"] == "corp"
    text = json.dumps(event, default=str)
    assert signed_in.id_token is not None and signed_in.id_token not in text
    assert credentials.secret_access_key not in text and credentials.session_token not in text


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("not-opted-in", "AccessDenied"),
        ("expired", "ExpiredToken"),
        ("no-id-token", "InvalidIdentityToken"),
        ("past-idp-session", "ValidationError"),
    ],
)
def test_the_broker_refuses_before_aws_is_asked(
    signed_in: SignInResult, change: str, code: str
) -> None:
    audit = MemoryAudit()
    providers = frozenset() if change == "not-opted-in" else frozenset({"corp"})
    minter = AwsWebIdentityMinter(audit, providers, client_factory=_refuse_calls).aimed_at(
        FederatedTarget(role_arn=ROLE_ARN)
    )
    identity = signed_in
    now = datetime.now(UTC)
    if change == "expired":
        identity = dataclasses.replace(identity, expires_at=now - timedelta(seconds=1))
    elif change == "no-id-token":
        identity = dataclasses.replace(identity, id_token=None)
    elif change == "past-idp-session":
        claims = dataclasses.replace(
            identity.claims, session_not_on_or_after=now + timedelta(minutes=20)
        )
        identity = dataclasses.replace(identity, claims=claims)
    with pytest.raises(StsError) as refused:
        minter.mint(identity, MintRequest(ACCOUNT, "WebDeployer", 3600))
    assert refused.value.code == code
    assert "\n" not in str(refused.value)
    assert [e["errorCode"] for e in audit.events] == [code]


def test_the_sts_client_is_unsigned_and_regional(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore

    monkeypatch.setenv("AWS_PROFILE", "not-in-any-aws-config")  # no profile is needed

    client = unsigned_client("eu-west-1", None)
    assert client.meta.config.signature_version is botocore.UNSIGNED
    assert client.meta.endpoint_url == "https://sts.eu-west-1.amazonaws.com"
    china = unsigned_client("cn-north-1", None)
    assert china.meta.endpoint_url == "https://sts.cn-north-1.amazonaws.com.cn"
