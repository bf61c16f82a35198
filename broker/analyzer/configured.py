"""The policies of the configured organization, as analyzer targets: every plain role's trust
policy and every role provisioned from a permission set (the directory has no resource-based
policies yet; those are analysed from files with ``--resource``)."""

from __future__ import annotations

from broker.analyzer.targets import Target, target_from_document
from broker.directory import Directory
from broker.directory.source import read_source

__all__ = ["directory_targets", "organization_accounts"]


def organization_accounts(directory: Directory) -> frozenset[str]:
    """Every account id of the organization: the zone of trust for ``--zone organization``."""
    return frozenset(account.id for account in directory.accounts())


def organization_id(directory: Directory) -> str | None:
    """The organization's declared id (``o-…``): requests carrying it as ``aws:PrincipalOrgID``
    come from inside the zone of trust."""
    return directory.organization_id(directory.management_account_id())


def directory_targets(directory: Directory) -> list[Target]:
    """A target per role: plain roles from ``roles.toml``, then provisioned ones."""
    spec, _issues, _broken = read_source(directory.source)
    seen: set[tuple[str, str]] = set()
    roles = []
    for role_spec in spec.roles if spec is not None else ():
        account = directory.account(role_spec.account)
        seen.add((account.id, role_spec.name))
        roles.append(directory.role(account.id, role_spec.name))
    for user in directory.users():
        for assignment in directory.assignments_of(user):
            key = (assignment.account_id, assignment.role_name)
            if key not in seen:
                seen.add(key)
                roles.append(directory.role(*key))
    return [
        target_from_document(
            f"role {role.name} in {role.account_id}",
            "trust",
            role.arn,
            role.account_id,
            role.trust_policy,
        )
        for role in roles
    ]
