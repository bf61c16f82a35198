"""What the analyzer looks at (a role's trust policy or a resource's policy) and the zone of
trust it asks about. Plain values; no solver here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from broker.policy import Policy, parse_policy

__all__ = ["Target", "Zone", "outside_names", "service_principals", "target_from_document"]

_PROVIDER = re.compile(r"^arn:[\w-]+:iam::(\d{12}):(saml-provider|oidc-provider)/")

ZoneKind = Literal["organization", "account"]


@dataclass(frozen=True, slots=True)
class Zone:
    """Who is inside: the accounts listed, and (for an organization) whoever carries its
    organization id in ``aws:PrincipalOrgID``."""

    kind: ZoneKind
    accounts: frozenset[str]
    org_id: str | None = None

    def for_target(self, target: Target) -> Zone:
        """An account zone is the target's own account; an organization zone is unchanged."""
        if self.kind == "account":
            return Zone("account", frozenset({target.account}), None)
        return Zone("organization", self.accounts | {target.account}, self.org_id)


@dataclass(frozen=True, slots=True)
class Target:
    """One policy to analyse: the role (trust) or resource it is attached to."""

    name: str
    kind: Literal["trust", "resource"]
    resource: str  # the role's or resource's ARN
    account: str
    policy: Policy
    services: frozenset[str] = field(default_factory=frozenset)  # AWS service principals


def outside_names(target: Target, zone: Zone) -> list[str]:
    """The external principals (web-identity, SAML, canonical users) the policy names that are
    outside ``zone``: not AWS services, not an identity provider defined in a zone account."""
    names: set[str] = set()
    for statement in target.policy.statements:
        if statement.principal is not None:
            names |= statement.principal.external - target.services
    return sorted(
        n for n in names if (m := _PROVIDER.match(n)) is None or m.group(1) not in zone.accounts
    )


def service_principals(document: Mapping[str, Any]) -> frozenset[str]:
    """The ``Service`` principal names a document lists (AWS services act inside the zone)."""
    names: set[str] = set()
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, Mapping):
            continue
        for element in ("Principal", "NotPrincipal"):
            principal = statement.get(element)
            if isinstance(principal, Mapping):
                value = principal.get("Service", [])
                names.update(v for v in (value if isinstance(value, list) else [value]) if v)
    return frozenset(names)


def target_from_document(
    name: str,
    kind: Literal["trust", "resource"],
    resource: str,
    account: str,
    document: Mapping[str, Any],
) -> Target:
    """Parse ``document`` (raises ``PolicyValidationError``) and describe it as a target."""
    policy = parse_policy(document, kind=kind, name=name)
    return Target(name, kind, resource, account, policy, service_principals(document))
