"""What the reports need from the directory, read once: users with MFA, each account's root
user, a principal's policy documents and role ARNs, and every service the config names."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from broker.analyzer.credential_report import RootFacts, UserFacts
from broker.analyzer.last_accessed import policy_services
from broker.analyzer.principal_events import Principal
from broker.directory import Directory
from broker.directory.source import read_source
from broker.errors import DirectoryError

__all__ = ["known_services", "principal_policies", "root_facts", "user_facts"]


def user_facts(
    directory: Directory, sts_mfa: Collection[tuple[str, str]] = frozenset()
) -> list[UserFacts]:
    """Each directory user; ``mfa_active`` as IAM's: any MFA device of that principal, a
    directory TOTP device or an STS virtual device (``sts_mfa``: ``(account, user)`` pairs).
    A directory user is ``arn:aws:iam::<management>:user/<name>``, so a device of a same-named
    user in another account is another principal's and does not count."""
    management = directory.management_account_id()
    return [
        UserFacts(
            u.name,
            u.email,
            directory.user_arn(u.name),
            bool(directory.mfa_devices(u.name)) or (management, u.name) in sts_mfa,
        )
        for u in directory.users()
    ]


def root_facts(directory: Directory) -> list[RootFacts]:
    return [RootFacts(a.id, a.root_mfa, a.root_access_keys) for a in directory.accounts()]


def known_services(directory: Directory) -> frozenset[str]:
    """Every service prefix named in any policy file of the configuration."""
    documents = []
    for path in sorted(directory.source.policies.glob("*.json")):
        try:
            documents.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # the directory loader already reported it
    return policy_services(d for d in documents if isinstance(d, Mapping))


def _roles_named(directory: Directory, name: str) -> list[Any]:
    spec, _issues, _broken = read_source(directory.source)
    found = []
    for role_spec in spec.roles if spec is not None else ():
        account = directory.account(role_spec.account)
        role = directory.role(account.id, role_spec.name)
        if name in (role.arn, role.name):
            found.append(role)
    return found


def _permission_set_roles(directory: Directory, name: str) -> list[Any]:
    seen: dict[str, Any] = {}
    for user in directory.users():
        for assignment in directory.assignments_of(user):
            if assignment.permission_set == name and assignment.role_arn not in seen:
                seen[assignment.role_arn] = directory.role(
                    assignment.account_id, assignment.role_name
                )
    return list(seen.values())


def principal_policies(
    directory: Directory, kind: str, name: str
) -> tuple[Principal, list[Mapping[str, Any]]]:
    """The principal and its permission policies (boundaries and SCPs only limit: not here)."""
    if kind == "user":
        user = directory.user(name)
        principal = Principal("user", name, user_arn=directory.user_arn(name))
        return principal, list(directory.identity_policies(user))
    if kind == "role":
        roles = _roles_named(directory, name)
        if not roles:
            raise DirectoryError(
                f"no role {name!r} in roles.toml; give a role name or ARN (for a permission "
                "set's roles use --permission-set)"
            )
    else:
        roles = _permission_set_roles(directory, name)
        if not roles:
            raise DirectoryError(
                f"permission set {name!r} is not assigned to anyone; nothing uses it "
                "(see `broker directory permission-sets`)"
            )
    documents: list[Mapping[str, Any]] = []
    for role in roles:
        documents += [d for d in role.permission_policies if d not in documents]
    arns = frozenset(r.arn for r in roles)
    if kind == "role":
        return Principal("role", name, arns), documents
    return Principal("permission-set", name, arns), documents
