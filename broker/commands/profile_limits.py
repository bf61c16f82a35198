"""``config validate``: each profile's ``duration`` against the maximum session of its role.

Why here and not when minting: the mint would refuse such a profile only at its first use
(typically inside an AWS CLI call), with STS's own wording. The maximum comes from where the
minter enforces it: the directory (a plain role's ``max_session_duration``, a permission set's
``session_duration``) for the ``local`` minter, ``[minters.aws.accounts."ID"]`` for ``aws``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.client.profiles import Profile
    from broker.config import BrokerConfig
    from broker.directory.model import DirectorySpec

__all__ = ["RoleLimit", "profile_limit_findings"]


@dataclass(frozen=True)
class RoleLimit:
    """A role's maximum session, and where that maximum is configured (for the message)."""

    seconds: int
    where: str


def _local_limit(spec: DirectorySpec, account_id: str, role: str) -> RoleLimit | None:
    from broker.directory.naming import parse_iso_duration

    names = {name for name, account in spec.accounts.items() if account.id == account_id}
    for plain in spec.roles:
        if plain.name == role and (plain.account in names or plain.account == account_id):
            return RoleLimit(plain.max_session_duration, f"role {role} in directory/roles.toml")
    if role.startswith("AWSReservedSSO_"):
        permission_set = role.removeprefix("AWSReservedSSO_").rpartition("_")[0]
        found = spec.permission_sets.get(permission_set)
        seconds = parse_iso_duration(found.session_duration) if found else None
        if seconds is not None:
            return RoleLimit(
                seconds,
                f"permission set {permission_set} (session_duration in "
                "directory/permission-sets.toml)",
            )
    return None


def profile_limit_findings(
    config: BrokerConfig, profiles: Mapping[str, Profile]
) -> list[tuple[str, str]]:
    """``(key, message)`` for each profile whose duration its role does not allow."""
    from broker.config.toml_names import toml_key

    spec = _directory_spec(config)
    aws_accounts = _aws_accounts(config)
    findings: list[tuple[str, str]] = []
    for name, profile in profiles.items():
        limit: RoleLimit | None = None
        if profile.minter == "aws":
            account = aws_accounts.get(profile.account)
            if account is not None:
                limit = RoleLimit(
                    account,
                    f'[minters.aws.accounts."{profile.account}"] max_session_duration',
                )
        elif spec is not None and profile.minter != "aws-identity-center":  # AWS decides those
            limit = _local_limit(spec, profile.account, profile.role)
        if limit is not None and profile.duration > limit.seconds:
            findings.append(
                (
                    f"profiles.{name}.duration",
                    f"{profile.duration} s is longer than {profile.role} in {profile.account} "
                    f"allows ({limit.seconds} s, from {limit.where}); set duration to at most "
                    f"{limit.seconds} in [profiles.{toml_key(name)}]",
                )
            )
    return findings


def _directory_spec(config: BrokerConfig) -> DirectorySpec | None:
    from broker.directory.source import Source, read_source

    if not (config.directory / "directory").is_dir():
        return None
    spec, _issues, _broken = read_source(Source(config.directory))
    return spec


def _aws_accounts(config: BrokerConfig) -> dict[str, int]:
    from broker.config import ConfigIssues
    from broker.minters.aws_settings import load_aws_settings

    try:
        settings = load_aws_settings(config)
    except ConfigIssues:
        return {}  # reported on their own by `config validate`
    return {account_id: a.max_session_duration for account_id, a in settings.accounts.items()}
