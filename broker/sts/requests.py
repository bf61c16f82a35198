"""The STS operations' requests as typed values.

Each operation takes one of these: numbers as numbers, lists as tuples, absent parameters as
``None``. The Query API builds them from its form parameters (``broker.sts.query_form``); the
local minter builds them directly. Each operation still checks the values against STS's
rules (lengths, patterns, sizes, durations) with STS's own error texts, whoever built the
request, so a value that skipped the Query API is held to the same rules.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar

__all__ = [
    "AssumeRoleRequest",
    "AssumeRoleWithSamlRequest",
    "AssumeRoleWithWebIdentityRequest",
    "GetCallerIdentityRequest",
    "GetFederationTokenRequest",
    "GetSessionTokenRequest",
    "StsRequest",
    "Tag",
]

Tag = tuple[str, str]
"""One session tag as sent: (key, value). Kept as pairs, in order, so duplicates can be seen."""


@dataclass(frozen=True)
class _Lifetime:
    """``DurationSeconds``: how long the minted session lasts (``None``: the operation's
    default). Keyword-only here and in the field groups below, so each request's own
    required fields keep their positions."""

    _: KW_ONLY
    duration_seconds: int | None = None


@dataclass(frozen=True)
class _SessionPolicies(_Lifetime):
    """``Policy`` and ``PolicyArns``: the session policies that narrow a minted session."""

    _: KW_ONLY
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class _MfaCode:
    """``SerialNumber`` and ``TokenCode``: the caller's MFA device and its current code."""

    _: KW_ONLY
    serial_number: str | None = None
    token_code: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class GetCallerIdentityRequest:
    action: ClassVar[str] = "GetCallerIdentity"


@dataclass(frozen=True)
class GetSessionTokenRequest(_Lifetime, _MfaCode):
    action: ClassVar[str] = "GetSessionToken"


@dataclass(frozen=True)
class GetFederationTokenRequest(_SessionPolicies):
    action: ClassVar[str] = "GetFederationToken"

    name: str
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class AssumeRoleRequest(_SessionPolicies, _MfaCode):
    action: ClassVar[str] = "AssumeRole"

    role_arn: str
    role_session_name: str
    tags: tuple[Tag, ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    external_id: str | None = None
    source_identity: str | None = None


@dataclass(frozen=True)
class AssumeRoleWithWebIdentityRequest(_SessionPolicies):
    action: ClassVar[str] = "AssumeRoleWithWebIdentity"

    role_arn: str
    role_session_name: str
    web_identity_token: str = field(repr=False)


@dataclass(frozen=True)
class AssumeRoleWithSamlRequest(_SessionPolicies):
    action: ClassVar[str] = "AssumeRoleWithSAML"

    role_arn: str
    principal_arn: str
    saml_assertion: str = field(repr=False)


StsRequest = (
    GetCallerIdentityRequest
    | GetSessionTokenRequest
    | GetFederationTokenRequest
    | AssumeRoleRequest
    | AssumeRoleWithWebIdentityRequest
    | AssumeRoleWithSamlRequest
)
