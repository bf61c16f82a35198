"""The STS operations' requests as typed values.

Each operation takes one of these: numbers as numbers, lists as tuples, absent parameters as
``None``. The Query API builds them from its form parameters (``broker.sts.query_form``); the
local minter builds them directly. Each operation still checks the values against STS's
rules (lengths, patterns, sizes, durations) with STS's own error texts, whoever built the
request, so a value that skipped the Query API is held to the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
class GetCallerIdentityRequest:
    action: ClassVar[str] = "GetCallerIdentity"


@dataclass(frozen=True)
class GetSessionTokenRequest:
    action: ClassVar[str] = "GetSessionToken"

    duration_seconds: int | None = None
    serial_number: str | None = None
    token_code: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class GetFederationTokenRequest:
    action: ClassVar[str] = "GetFederationToken"

    name: str
    duration_seconds: int | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class AssumeRoleRequest:
    action: ClassVar[str] = "AssumeRole"

    role_arn: str
    role_session_name: str
    duration_seconds: int | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()
    external_id: str | None = None
    serial_number: str | None = None
    token_code: str | None = field(default=None, repr=False)
    source_identity: str | None = None


@dataclass(frozen=True)
class AssumeRoleWithWebIdentityRequest:
    action: ClassVar[str] = "AssumeRoleWithWebIdentity"

    role_arn: str
    role_session_name: str
    web_identity_token: str = field(repr=False)
    duration_seconds: int | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssumeRoleWithSamlRequest:
    action: ClassVar[str] = "AssumeRoleWithSAML"

    role_arn: str
    principal_arn: str
    saml_assertion: str = field(repr=False)
    duration_seconds: int | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()


StsRequest = (
    GetCallerIdentityRequest
    | GetSessionTokenRequest
    | GetFederationTokenRequest
    | AssumeRoleRequest
    | AssumeRoleWithWebIdentityRequest
    | AssumeRoleWithSamlRequest
)
