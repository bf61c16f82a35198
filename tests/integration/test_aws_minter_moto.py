"""The aws minter against moto's server on loopback as the upstream STS (authorization on)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.session
import pytest

from broker.errors import ConfigError, StsError
from broker.minters.aws import AwsMinter
from broker.minters.base import Credentials, MintRequest
from broker.minters.testing import MinterConformance
from tests.integration.moto_peer import MotoPeer
from tests.minter_support import ACCOUNT, SESSION_POLICY, MemoryAudit, identity, settings

pytestmark = pytest.mark.integration

SECRET_PARTS = ("secret_access_key", "session_token")


def _minter(
    peer: MotoPeer, profile: str | None, audit: MemoryAudit, **account: object
) -> AwsMinter:
    return AwsMinter(settings(profile=profile, endpoint_url=peer.url, **account), audit)


def _caller_arn(peer: MotoPeer, credentials: Credentials) -> str:
    client = botocore.session.Session().create_client(
        "sts",
        region_name="us-east-1",
        endpoint_url=peer.url,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    arn: str = client.get_caller_identity()["Arn"]
    return arn


def _no_secret_in(audit: MemoryAudit, credentials: Credentials) -> None:
    text = repr(audit.events)
    assert credentials.secret_access_key not in text
    assert credentials.session_token not in text


def test_assume_role_returns_working_credentials(
    moto_peer: MotoPeer, upstream_profile: str
) -> None:
    audit = MemoryAudit()
    minter = _minter(moto_peer, upstream_profile, audit, session_tags={"email": "email"})
    before = datetime.now(UTC)
    credentials = minter.mint(identity(), MintRequest(ACCOUNT, "AllowedReadOnly", 900))
    assert credentials.access_key_id.startswith("ASIA")
    assert timedelta(seconds=890) < credentials.expiration - before < timedelta(seconds=910)
    assert _caller_arn(moto_peer, credentials) == (
        f"arn:aws:sts::{ACCOUNT}:assumed-role/AllowedReadOnly/alice@example.com"
    )
    (event,) = audit.events
    assert event["eventName"] == "AssumeRole"
    assert event["requestParameters"]["SourceIdentity"] == "alice@example.com"
    assert event["requestParameters"]["Tags"] == [{"Key": "email", "Value": "alice@example.com"}]
    assert event["responseElements"]["credentials"]["accessKeyId"] == credentials.access_key_id
    _no_secret_in(audit, credentials)


def test_federation_token_for_36_hours(moto_peer: MotoPeer, upstream_profile: str) -> None:
    audit = MemoryAudit()
    minter = _minter(moto_peer, upstream_profile, audit, method="federation-token")
    request = MintRequest(ACCOUNT, "AllowedReadOnly", 129_600, session_policy=SESSION_POLICY)
    before = datetime.now(UTC)
    credentials = minter.mint(identity(), request)
    assert credentials.expiration - before > timedelta(hours=35, minutes=59)
    assert credentials.session_token
    assert audit.events[0]["eventName"] == "GetFederationToken"
    assert "Policy" not in audit.events[0]["requestParameters"]


def test_aws_refusal_comes_back_with_aws_code(moto_peer: MotoPeer, upstream_profile: str) -> None:
    # "Other" is listed for the broker but the upstream user's IAM policy does not allow it.
    audit = MemoryAudit()
    minter = _minter(moto_peer, upstream_profile, audit)
    with pytest.raises(StsError) as caught:
        minter.mint(identity(), MintRequest(ACCOUNT, "Other"))
    assert caught.value.code == "AccessDenied"
    assert str(caught.value).startswith("upstream AWS STS refused AssumeRole: AccessDenied:")
    assert "\n" not in str(caught.value)
    assert audit.events[0]["errorCode"] == "AccessDenied"


def test_unknown_upstream_key_is_aws_invalid_client_token(
    moto_peer: MotoPeer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-key-" + "0" * 28)
    minter = _minter(moto_peer, None, MemoryAudit())
    with pytest.raises(StsError) as caught:
        minter.mint(identity(), MintRequest(ACCOUNT, "AllowedReadOnly"))
    assert caught.value.code == "InvalidClientTokenId"


def test_missing_profile_is_a_config_error(moto_peer: MotoPeer, upstream_profile: str) -> None:
    minter = _minter(moto_peer, "no-such-profile", MemoryAudit())
    with pytest.raises(ConfigError, match="no-such-profile"):
        minter.mint(identity(), MintRequest(ACCOUNT, "AllowedReadOnly"))


def test_nothing_handed_out_when_the_audit_log_fails(
    moto_peer: MotoPeer, upstream_profile: str
) -> None:
    from broker.errors import AuditError

    minter = _minter(moto_peer, upstream_profile, MemoryAudit(broken=True))
    with pytest.raises(AuditError):
        minter.mint(identity(), MintRequest(ACCOUNT, "AllowedReadOnly"))


class TestAwsMinterConformance(MinterConformance):
    """The minter conformance suite (``broker.minters.testing``) against moto's STS."""

    @pytest.fixture
    def audit(self) -> MemoryAudit:
        return MemoryAudit()

    @pytest.fixture
    def minter(self, moto_peer: MotoPeer, upstream_profile: str, audit: MemoryAudit) -> AwsMinter:
        return _minter(moto_peer, upstream_profile, audit)

    @pytest.fixture
    def audit_events(self, audit: MemoryAudit):
        return lambda: list(audit.events)

    @pytest.fixture
    def broken_minter(self, moto_peer: MotoPeer, upstream_profile: str) -> AwsMinter:
        return _minter(moto_peer, upstream_profile, MemoryAudit(broken=True))

    @pytest.fixture
    def identity(self):
        return identity()

    @pytest.fixture
    def assigned(self) -> MintRequest:
        return MintRequest(ACCOUNT, "AllowedReadOnly", 900)

    @pytest.fixture
    def unassigned(self) -> MintRequest:
        return MintRequest(ACCOUNT, "NotListed", 900)

    @pytest.fixture
    def role_maximum(self) -> int:
        return 3600  # the account's max_session_duration default
