"""The portal's second source: the roles an ``aws_federation`` SAML sign-in's assertion grants.

With SAML straight into AWS the IdP, not the broker's directory, decides what the person may
assume: each ``https://aws.amazon.com/SAML/Attributes/Role`` value pairs a role with the IAM SAML
provider that trusts it. ``broker assignments --provider``, ``broker configure aws`` and the
terminal app list those roles, each minted by the ``aws-saml`` minter. Accounts are named from
the directory where it knows them, else shown by id. Nothing here is secret: the claims are the
index's copy, never the response itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from broker.minters.aws_federation import federated_providers
from broker.minters.aws_saml import SESSION_DURATION_ATTRIBUTE, role_pairs
from providers.base import Claims

if TYPE_CHECKING:
    from broker.config import BrokerConfig
    from broker.sts.state_handle import StateHandle

__all__ = [
    "AssertionRole",
    "account_names",
    "assertion_roles",
    "federated_saml_providers",
]

#: A role session's default length when the assertion sets no SessionDuration (STS's default).
DEFAULT_SECONDS = 3600


@dataclass(frozen=True)
class AssertionRole:
    """One role the assertion grants."""

    account_id: str
    account_name: str
    role_name: str
    role_arn: str
    principal_arn: str
    max_session_seconds: int

    def to_json(self) -> dict[str, str | int]:
        return {
            "account_id": self.account_id,
            "account_name": self.account_name,
            "role_name": self.role_name,
            "role_arn": self.role_arn,
            "principal_arn": self.principal_arn,
            "max_session_duration": self.max_session_seconds,
        }


def federated_saml_providers(config: BrokerConfig) -> frozenset[str]:
    """The ``type = "saml"`` providers with ``aws_federation = true``."""
    from broker.config.providers import provider_tables

    tables = provider_tables(config)
    return frozenset(
        name for name in federated_providers(config) if tables[name].get("type") == "saml"
    )


def _seconds(claims: Claims) -> int:
    values = claims.attributes.get(SESSION_DURATION_ATTRIBUTE, ())
    try:
        seconds = int(values[0]) if values else DEFAULT_SECONDS
    except ValueError:
        return DEFAULT_SECONDS  # the minter refuses it with the reason when used
    return min(max(seconds, 900), 43_200)


def assertion_roles(claims: Claims, names: Mapping[str, str]) -> list[AssertionRole]:
    """Every role the assertion behind ``claims`` grants, in its order; ``names`` maps account
    ids to the directory's names (an account it does not know is named by its id)."""
    seconds = _seconds(claims)
    return [
        AssertionRole(
            account_id=pair.account_id,
            account_name=names.get(pair.account_id, pair.account_id),
            role_name=pair.role_name,
            role_arn=pair.role_arn,
            principal_arn=pair.principal_arn,
            max_session_seconds=seconds,
        )
        for pair in role_pairs(claims)
    ]


def account_names(config: BrokerConfig, state: StateHandle) -> dict[str, str]:
    """Account id -> name from the directory over the front end's state, or nothing when no
    directory is configured (the state is then not opened)."""
    if not (config.directory / "directory").is_dir():
        return {}
    from broker.directory import load_directory

    directory = load_directory(config.directory, state.state().shared.database)
    try:
        return {account.id: account.name for account in directory.accounts()}
    finally:
        directory.close()
