"""The ``[minters.aws]`` table of ``broker.toml``: which AWS accounts the upstream minter serves.

Nothing here is secret. The broker's own upstream AWS credentials come from botocore's standard
chain (environment, shared credentials file, SSO, instance or container role) or a named profile
of that chain — never from a file of ours::

    [minters.aws]
    federation_url = "https://signin.aws.amazon.com/federation"   # console sign-in endpoint
    issuer = "https://broker.example.com"                          # shown by the console

    [minters.aws.accounts."111122223333"]
    method = "assume-role"         # or "federation-token"
    profile = "broker-upstream"    # optional: a named profile of the standard AWS chain
    region = "eu-west-1"
    roles = ["ReadOnly", "Admin"]  # roles the broker may assume here (AccessDenied otherwise)
    max_session_duration = 3600    # each role's MaxSessionDuration in AWS (3600..43200)
    require_mfa = true             # refuse sign-ins without MFA
    session_tags = { email = "email", team = "groups" }   # tag key -> claim
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from broker.config import BrokerConfig, ConfigIssue, ConfigIssues, from_table

__all__ = ["CLAIM_SOURCES", "AwsAccount", "AwsSettings", "load_aws_settings"]

#: Claims a session tag may carry (no secrets among them).
CLAIM_SOURCES = ("email", "subject", "name", "provider", "groups")

_ACCOUNT = re.compile(r"^[0-9]{12}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_TAG_KEY = re.compile(r"^[\w.:/=+@-]{1,128}$")


@dataclass(frozen=True)
class AwsAccount:
    """How the broker obtains credentials in one AWS account.

    Args:
        method: ``assume-role`` (AssumeRole into the assignment's role) or ``federation-token``
            (GetFederationToken with the permission set as the session policy).
        profile: a named profile of the standard AWS chain for the broker's own credentials;
            ``None`` uses the default chain.
        region: the STS region (regional endpoint).
        endpoint_url: another STS endpoint (a VPC endpoint; tests point it at moto).
        partition: ``aws``, ``aws-cn`` or ``aws-us-gov`` (for role ARNs).
        role_path: the path of the roles (``/`` or ``/aws-reserved/sso.amazonaws.com/``).
        roles: the roles (or, for ``federation-token``, permission sets) the broker may mint
            for in this account; empty means none.
        max_session_duration: the roles' MaxSessionDuration in AWS, enforced before calling.
        require_mfa: refuse identities whose sign-in did not use MFA.
        source_identity: set SourceIdentity (sticky across role chaining) to the user.
        session_tags: session tag key -> claim (one of ``CLAIM_SOURCES``).
    """

    method: Literal["assume-role", "federation-token"] = "assume-role"
    profile: str | None = None
    region: str = "us-east-1"
    endpoint_url: str | None = None
    partition: Literal["aws", "aws-cn", "aws-us-gov"] = "aws"
    role_path: str = "/"
    roles: tuple[str, ...] = ()
    max_session_duration: int = 3600
    require_mfa: bool = False
    source_identity: bool = True
    session_tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AwsSettings:
    """The whole ``[minters.aws]`` table."""

    federation_url: str = "https://signin.aws.amazon.com/federation"
    console_url: str = "https://console.aws.amazon.com/"
    issuer: str = "https://access-broker.invalid"
    accounts: dict[str, AwsAccount] = field(default_factory=dict)


def _account_issues(file: str, key: str, account: AwsAccount) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    if not 3600 <= account.max_session_duration <= 43_200:
        issues.append(
            ConfigIssue(file, f"{key}.max_session_duration", "must be 3600..43200 (AWS's range)")
        )
    if not (account.role_path.startswith("/") and account.role_path.endswith("/")):
        issues.append(ConfigIssue(file, f"{key}.role_path", "must start and end with '/'"))
    for i, role in enumerate(account.roles):
        if not _ROLE_NAME.match(role):
            issues.append(ConfigIssue(file, f"{key}.roles[{i}]", "not a valid IAM role name"))
    if len(account.session_tags) > 50:
        issues.append(ConfigIssue(file, f"{key}.session_tags", "AWS allows at most 50 tags"))
    for tag, claim in account.session_tags.items():
        if not _TAG_KEY.match(tag):
            issues.append(ConfigIssue(file, f"{key}.session_tags.{tag}", "not a valid tag key"))
        if claim not in CLAIM_SOURCES:
            choices = ", ".join(CLAIM_SOURCES)
            issues.append(
                ConfigIssue(file, f"{key}.session_tags.{tag}", f"claim must be one of {choices}")
            )
    return issues


def load_aws_settings(config: BrokerConfig) -> AwsSettings:
    """Read and check ``[minters.aws]``; every problem is reported together.

    Raises:
        ConfigIssues: unknown keys, wrong types, bad account ids, durations or tags.
    """
    file = str(config.file)
    table: Mapping[str, Any] = config.section("minters").get("aws", {})
    settings, issues = from_table(AwsSettings, table, file=file, prefix="minters.aws")
    if settings is not None:
        for account_id, account in settings.accounts.items():
            key = f"minters.aws.accounts.{account_id}"
            if not _ACCOUNT.match(account_id):
                issues.append(ConfigIssue(file, key, "must be a 12-digit account id"))
            issues.extend(_account_issues(file, key, account))
    if issues or settings is None:
        raise ConfigIssues(issues)
    return settings
