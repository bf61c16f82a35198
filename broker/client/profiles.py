"""Profiles: a name for (provider, account, role), read from ``[profiles.<name>]``.

[profiles.dev-admin]
account = "111122223333"
role = "AdministratorAccess"
provider = "demo"          # default: [broker] default_provider
minter = "local"           # "local" (the broker's STS) or "aws" (upstream STS)
duration = 3600            # seconds, 900..129600; the minter enforces the role's maximum
region = "eu-west-1"       # optional, exported as AWS_REGION / written to ~/.aws/config
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from broker.config import BrokerConfig, ConfigIssue, ConfigIssues, from_table
from broker.config.toml_names import toml_key
from broker.errors import ConfigError

__all__ = ["Profile", "ProfileSettings", "default_provider", "find_profile", "load_profiles"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
_ACCOUNT = re.compile(r"^[0-9]{12}$")


@dataclass(frozen=True)
class ProfileSettings:
    """One ``[profiles.<name>]`` table as written."""

    account: str
    role: str
    provider: str | None = None
    minter: Literal["local", "aws"] = "local"
    duration: int = 3600
    region: str | None = None


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


def default_provider(config: BrokerConfig) -> str | None:
    """``[broker] default_provider``, if set."""
    value = config.section("broker").get("default_provider")
    return value if isinstance(value, str) else None


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
        if not _ACCOUNT.match(settings.account):
            issues.append(ConfigIssue(file, f"{key}.account", "must be a 12-digit account id"))
        if not 900 <= settings.duration <= 129_600:
            issues.append(ConfigIssue(file, f"{key}.duration", "must be 900..129600 seconds"))
        provider = settings.provider or fallback
        if provider is None:
            issues.append(
                ConfigIssue(file, f"{key}.provider", "missing (and no [broker] default_provider)")
            )
            continue
        profiles[name] = Profile(
            name=name,
            provider=provider,
            account=settings.account,
            role=settings.role,
            minter=settings.minter,
            duration=settings.duration,
            region=settings.region,
        )
    if issues:
        raise ConfigIssues(issues)
    return profiles


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
