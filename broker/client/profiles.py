"""Profiles: a name for (provider, account, role), read from ``[profiles.<name>]``.

[profiles.dev-admin]
account = "111122223333"
role = "AdministratorAccess"
provider = "demo"          # default: [broker] default_provider
minter = "local"           # "local" (the broker's STS), "aws" (upstream STS) or
                           # "aws-identity-center" (GetRoleCredentials; no duration)
duration = 3600            # seconds, 900..129600; the minter enforces the role's maximum
region = "eu-west-1"       # optional, exported as AWS_REGION / written to ~/.aws/config

A chained profile takes its credentials from another profile's session by STS AssumeRole,
as the AWS CLI's ``source_profile`` does (account and role come from ``role_arn``):

[profiles.audit]
source_profile = "dev-admin"
role_arn = "arn:aws:iam::444455556666:role/Audit"
mfa_serial = "arn:aws:iam::111122223333:mfa/alice"   # optional: ask for a TOTP code
endpoint_url = "http://127.0.0.1:8787"               # optional: the STS (default: AWS's)
duration = 3600                                      # at most 1 hour: AWS's chaining cap

A federated profile hands the person's own sign-in to AWS STS (the provider must say
``aws_federation = true``; see README), so the broker needs no AWS credentials:

[profiles.dev]
provider = "corp"                                     # a SAML or OIDC provider
minter = "aws-saml"                                   # or "aws-web-identity"
role_arn = "arn:aws:iam::111122223333:role/Dev"
principal_arn = "arn:aws:iam::111122223333:saml-provider/Corp"  # aws-saml, when needed
region = "eu-west-1"                                  # optional: the regional STS
endpoint_url = "https://sts.eu-west-1.amazonaws.com"  # optional: a VPC endpoint
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from broker.config import BrokerConfig, ConfigIssue, ConfigIssues, from_table
from broker.config.providers import default_provider
from broker.config.toml_names import toml_key
from broker.errors import ConfigError

__all__ = [
    "CHAINED_MAX_DURATION",
    "Profile",
    "ProfileSettings",
    "find_profile",
    "load_profiles",
]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")
_ROLE_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$"
)
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:saml-provider/[\w.-]{1,128}$")
_MFA_SERIAL = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:mfa/[\w+=,.@/-]{1,512}$")
_ENDPOINT = re.compile(r"^https?://[^\s/?#]+/?$")
# AWS caps a session from role chaining at one hour.
CHAINED_MAX_DURATION = 3600
# AssumeRoleWithSAML and AssumeRoleWithWebIdentity give at most 12 hours.
FEDERATED_MAX_DURATION = 43_200
FEDERATED_MINTERS = ("aws-saml", "aws-web-identity")


@dataclass(frozen=True)
class ProfileSettings:
    """One ``[profiles.<name>]`` table as written."""

    account: str = ""
    role: str = ""
    provider: str | None = None
    minter: Literal["local", "aws", "aws-saml", "aws-web-identity", "aws-identity-center"] = "local"
    duration: int = 3600
    region: str | None = None
    source_profile: str | None = None
    role_arn: str | None = None
    mfa_serial: str | None = None
    endpoint_url: str | None = None
    principal_arn: str | None = None


@dataclass(frozen=True)
class Profile:
    """A resolved profile: every field known."""

    name: str
    provider: str
    account: str
    role: str
    minter: str
    duration: int
    region: str | None
    source_profile: str | None = None  # chained: AssumeRole with this profile's session
    role_arn: str | None = None
    mfa_serial: str | None = None  # ask for a TOTP code when minting
    endpoint_url: str | None = None  # the STS for chained or federated calls (default: AWS's)
    principal_arn: str | None = None  # aws-saml: the IAM SAML provider of role_arn


def load_profiles(config: BrokerConfig) -> dict[str, Profile]:
    """Every profile in ``broker.toml``; all problems reported together.

    Raises:
        ConfigIssues: a table is invalid (unknown key, wrong type, bad account id or duration).
    """
    file = str(config.file)
    fallback = default_provider(config)
    issues: list[ConfigIssue] = []
    profiles: dict[str, Profile] = {}
    section: Mapping[str, Any] = config.section("profiles")
    for name, table in section.items():
        key = f"profiles.{name}"
        if not _NAME.match(name):
            issues.append(ConfigIssue(file, key, "name must be 1-64 of A-Z a-z 0-9 _ . @ + -"))
            continue
        if not isinstance(table, dict):
            issues.append(ConfigIssue(file, key, "expected a table"))
            continue
        settings, found = from_table(ProfileSettings, table, file=file, prefix=key)
        issues.extend(found)
        if settings is None:
            continue
        found_issues = _check(settings, name, file, key)
        if settings.minter == "aws-identity-center" and "duration" in table:
            found_issues.append(
                ConfigIssue(
                    file,
                    f"{key}.duration",
                    "IAM Identity Center sets the session length (the permission set's); remove it",
                )
            )
        issues.extend(found_issues)
        if found_issues:
            continue
        account, role = settings.account, settings.role
        if settings.role_arn is not None:
            matched = _ROLE_ARN.match(settings.role_arn)
            assert matched is not None  # _check refused anything else
            account, role = matched.group(1), matched.group(2)
        provider = settings.provider or fallback
        if provider is None and settings.source_profile is None:
            issues.append(
                ConfigIssue(file, f"{key}.provider", "missing (and no [broker] default_provider)")
            )
            continue
        profiles[name] = Profile(
            name=name,
            provider=provider or "",  # a chained profile's is its source's (see resolve)
            account=account,
            role=role,
            minter="chained" if settings.source_profile else settings.minter,
            duration=settings.duration,
            region=settings.region,
            source_profile=settings.source_profile,
            role_arn=settings.role_arn,
            mfa_serial=settings.mfa_serial,
            endpoint_url=settings.endpoint_url,
            principal_arn=settings.principal_arn,
        )
    if issues:
        raise ConfigIssues(issues)
    _refuse_cycles(profiles, file)
    return profiles


def _check(settings: ProfileSettings, name: str, file: str, key: str) -> list[ConfigIssue]:
    """Every problem of one table (the chained keys are checked together: fail closed)."""
    issues: list[ConfigIssue] = []
    if not 900 <= settings.duration <= 129_600:
        issues.append(ConfigIssue(file, f"{key}.duration", "must be 900..129600 seconds"))
    if settings.minter in FEDERATED_MINTERS:
        return issues + _check_federated(settings, file, key)
    if settings.principal_arn is not None:
        issues.append(
            ConfigIssue(file, f"{key}.principal_arn", 'only a minter = "aws-saml" profile uses it')
        )
    chained = settings.source_profile is not None or settings.role_arn is not None
    if not chained:
        for field_name in ("account", "role"):
            if not getattr(settings, field_name):
                issues.append(ConfigIssue(file, f"{key}.{field_name}", "required key is missing"))
        if settings.account and not _ACCOUNT.match(settings.account):
            issues.append(ConfigIssue(file, f"{key}.account", "must be a 12-digit account id"))
        for field_name in ("mfa_serial", "endpoint_url"):
            if getattr(settings, field_name) is not None:
                issues.append(
                    ConfigIssue(
                        file,
                        f"{key}.{field_name}",
                        "only a chained profile (source_profile + role_arn) uses it",
                    )
                )
        return issues
    if settings.source_profile is None or settings.role_arn is None:
        issues.append(
            ConfigIssue(file, key, "a chained profile needs both source_profile and role_arn")
        )
        return issues
    for field_name in ("account", "role", "provider"):
        if getattr(settings, field_name):
            issues.append(
                ConfigIssue(
                    file,
                    f"{key}.{field_name}",
                    "a chained profile takes it from role_arn and its source_profile; remove it",
                )
            )
    if settings.source_profile == name:
        issues.append(ConfigIssue(file, f"{key}.source_profile", "names this profile itself"))
    if not _ROLE_ARN.match(settings.role_arn):
        issues.append(
            ConfigIssue(file, f"{key}.role_arn", "must be arn:aws:iam::ACCOUNT:role/NAME")
        )
    if settings.mfa_serial is not None and not _MFA_SERIAL.match(settings.mfa_serial):
        issues.append(
            ConfigIssue(file, f"{key}.mfa_serial", "must be arn:aws:iam::ACCOUNT:mfa/NAME")
        )
    if settings.endpoint_url is not None and not _ENDPOINT.match(settings.endpoint_url):
        issues.append(
            ConfigIssue(file, f"{key}.endpoint_url", "must be an http(s) URL with no path")
        )
    if settings.duration > CHAINED_MAX_DURATION:
        issues.append(
            ConfigIssue(
                file,
                f"{key}.duration",
                "a chained profile's session lasts at most 3600 seconds (AWS's role-chaining cap)",
            )
        )
    return issues


def _check_federated(settings: ProfileSettings, file: str, key: str) -> list[ConfigIssue]:
    """A profile whose minter hands the sign-in to AWS: the role comes from ``role_arn``."""
    issues: list[ConfigIssue] = []
    minter = settings.minter
    for field_name in ("account", "role", "source_profile", "mfa_serial"):
        if getattr(settings, field_name):
            issues.append(
                ConfigIssue(
                    file,
                    f"{key}.{field_name}",
                    f"a {minter} profile takes its role from role_arn and its MFA from the IdP; "
                    "remove it",
                )
            )
    if settings.role_arn is None:
        issues.append(ConfigIssue(file, f"{key}.role_arn", f"required with minter = {minter!r}"))
    elif not _ROLE_ARN.match(settings.role_arn):
        issues.append(
            ConfigIssue(file, f"{key}.role_arn", "must be arn:aws:iam::ACCOUNT:role/NAME")
        )
    if settings.principal_arn is not None:
        if minter != "aws-saml":
            issues.append(
                ConfigIssue(
                    file, f"{key}.principal_arn", 'only a minter = "aws-saml" profile uses it'
                )
            )
        elif not _PRINCIPAL_ARN.match(settings.principal_arn):
            issues.append(
                ConfigIssue(
                    file, f"{key}.principal_arn", "must be arn:aws:iam::ACCOUNT:saml-provider/NAME"
                )
            )
    if settings.endpoint_url is not None and not _ENDPOINT.match(settings.endpoint_url):
        issues.append(
            ConfigIssue(file, f"{key}.endpoint_url", "must be an http(s) URL with no path")
        )
    if settings.duration > FEDERATED_MAX_DURATION:
        issues.append(
            ConfigIssue(
                file,
                f"{key}.duration",
                f"a {minter} session lasts at most 43200 seconds (AWS's limit)",
            )
        )
    return issues


def _refuse_cycles(profiles: Mapping[str, Profile], file: str) -> None:
    """A chain of source profiles that comes back to itself would wait on its own lock."""
    for start in profiles:
        seen = [start]
        current = profiles[start].source_profile
        while current is not None and current in profiles:
            if current in seen:
                loop = " -> ".join([*seen, current])
                raise ConfigIssues(
                    [ConfigIssue(file, f"profiles.{start}.source_profile", f"a loop: {loop}")]
                )
            seen.append(current)
            current = profiles[current].source_profile


def find_profile(config: BrokerConfig, name: str) -> Profile:
    """The profile called ``name``.

    Raises:
        ConfigError: no such profile (the message lists the configured ones).
    """
    profiles = load_profiles(config)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(
            f"no profile {name!r} in {config.file} (configured: {known}); add a "
            f"[profiles.{toml_key(name)}] table"
        )
    return profiles[name]
