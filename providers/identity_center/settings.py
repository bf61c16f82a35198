"""The ``[providers.<name>]`` table of an IAM Identity Center provider, checked strictly::

    [providers.work]
    type = "aws-identity-center"
    start_url = "https://my-company.awsapps.com/start"   # the AWS access portal URL
    region = "eu-west-1"                                  # the Identity Center instance's region
    # endpoint_url = "https://vpce-..."                   # optional: a VPC endpoint (tests: a fake)

Nothing here is secret: the client registration and the tokens live in the OS keyring.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from broker.config.schema import ConfigIssue, ConfigIssues, from_table

__all__ = ["IdentityCenterSettings", "load_settings"]

_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+){1,3}-[0-9]$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in _LOOPBACK


@dataclass(frozen=True)
class IdentityCenterSettings:
    """One Identity Center instance.

    Args:
        type: always ``"aws-identity-center"``.
        start_url: the AWS access portal URL the person signs in at.
        region: the region of the Identity Center instance (its OIDC and portal endpoints).
        endpoint_url: another endpoint for both services (a VPC endpoint; tests: a fake).
        client_name: the name the broker registers its OIDC client under.
    """

    type: Literal["aws-identity-center"]
    start_url: str
    region: str
    endpoint_url: str | None = None
    client_name: str = "access-broker"


def load_settings(
    name: str, table: Mapping[str, Any], file: str = "broker.toml"
) -> IdentityCenterSettings:
    """Build and check the settings of provider ``name``, reporting every problem at once.

    Raises:
        ConfigIssues: unknown keys, wrong types, or values that break a rule.
    """
    prefix = f"providers.{name}"
    settings, issues = from_table(IdentityCenterSettings, table, file=file, prefix=prefix)
    if settings is not None:
        if not _https_or_loopback(settings.start_url):
            issues.append(ConfigIssue(file, f"{prefix}.start_url", "must be an https URL"))
        if not _REGION.match(settings.region):
            issues.append(
                ConfigIssue(file, f"{prefix}.region", "not a region name (like eu-west-1)")
            )
        if settings.endpoint_url is not None and not _https_or_loopback(settings.endpoint_url):
            issues.append(
                ConfigIssue(
                    file,
                    f"{prefix}.endpoint_url",
                    "must be an https URL (plain http only on 127.0.0.1)",
                )
            )
        if not settings.client_name.strip():
            issues.append(ConfigIssue(file, f"{prefix}.client_name", "must not be empty"))
    if issues or settings is None:
        raise ConfigIssues(issues)
    return settings
