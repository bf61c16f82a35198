"""The STS operations' results as typed values, and what the audit log keeps of them.

An operation answers an ``Outcome``: which action it was, its typed result, the minted
session's claims and, for unsigned calls, the CloudTrail ``userIdentity`` of the token's
subject. The Query API renders the result as XML (``broker.sts.query_results``); the local
minter reads the credentials straight from it. ``Outcome.response_elements`` is the
secret-free part both record in the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from broker.sts.session_token import SessionClaims

__all__ = [
    "AssumeRoleResult",
    "AssumeRoleWithSamlResult",
    "AssumeRoleWithWebIdentityResult",
    "AssumedRoleUser",
    "CallerIdentityResult",
    "FederatedUser",
    "FederationTokenResult",
    "Outcome",
    "RoleSessionResult",
    "SessionCredentials",
    "SessionTokenResult",
    "StsResult",
    "iso_time",
]


def iso_time(moment: datetime) -> str:
    """STS's timestamp form: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SessionCredentials:
    """Temporary credentials; the secret and the token never show in a repr."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime


@dataclass(frozen=True)
class AssumedRoleUser:
    assumed_role_id: str
    arn: str


@dataclass(frozen=True)
class FederatedUser:
    federated_user_id: str
    arn: str


@dataclass(frozen=True)
class CallerIdentityResult:
    user_id: str
    account: str
    arn: str


@dataclass(frozen=True)
class SessionTokenResult:
    credentials: SessionCredentials


@dataclass(frozen=True)
class FederationTokenResult:
    credentials: SessionCredentials
    federated_user: FederatedUser
    packed_policy_size: int


@dataclass(frozen=True)
class RoleSessionResult:
    """What the three AssumeRole calls share: the role session's credentials and user.

    ``packed_policy_size`` (keyword-only, so each call's own fields keep their positions) is
    ``None`` when the request carried no session policy or tags."""

    credentials: SessionCredentials
    assumed_role_user: AssumedRoleUser
    _: KW_ONLY
    packed_policy_size: int | None = None


@dataclass(frozen=True)
class AssumeRoleResult(RoleSessionResult):
    source_identity: str | None = None


@dataclass(frozen=True)
class AssumeRoleWithWebIdentityResult(RoleSessionResult):
    subject_from_web_identity_token: str
    provider: str
    audience: str


@dataclass(frozen=True)
class AssumeRoleWithSamlResult(RoleSessionResult):
    subject: str
    subject_type: str
    issuer: str
    audience: str
    name_qualifier: str
    source_identity: str | None = None


StsResult = (
    CallerIdentityResult
    | SessionTokenResult
    | FederationTokenResult
    | AssumeRoleResult
    | AssumeRoleWithWebIdentityResult
    | AssumeRoleWithSamlResult
)

R = TypeVar("R", bound=StsResult, covariant=True)


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What an operation answers.

    Args:
        action: the STS action that answered (``AssumeRoleWithSAML``...).
        result: its typed result.
        session: the minted session's claims (``None`` for GetCallerIdentity).
        identity: CloudTrail's ``userIdentity`` for an unsigned call (the token's subject).
    """

    action: str
    result: R
    session: SessionClaims | None = None
    identity: Mapping[str, Any] | None = None

    @property
    def response_elements(self) -> dict[str, Any] | None:
        """CloudTrail's ``responseElements``: the key id, expiry, session id and the
        assumed-role or federated user; never a secret or a token."""
        result = self.result
        if isinstance(result, CallerIdentityResult) or self.session is None:
            return None
        credentials = result.credentials
        elements: dict[str, Any] = {
            "credentials": {
                "accessKeyId": credentials.access_key_id,
                "expiration": iso_time(credentials.expiration),
            },
            "sessionId": self.session.session_id,
        }
        if isinstance(result, FederationTokenResult):
            user = result.federated_user
            elements["federatedUser"] = {"FederatedUserId": user.federated_user_id, "Arn": user.arn}
        elif isinstance(result, RoleSessionResult):
            role_user = result.assumed_role_user
            elements["assumedRoleUser"] = {
                "AssumedRoleId": role_user.assumed_role_id,
                "Arn": role_user.arn,
            }
        return elements
