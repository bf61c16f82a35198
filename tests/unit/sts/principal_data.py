"""A PrincipalSource over plain data, and policy helpers, shared by the STS tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.policy import Policy, parse_policy
from broker.sts.principals import (
    PrincipalPolicies,
    RoleDefinition,
    SamlProviderEntry,
    WebIdentityProvider,
)

HOME, OTHER = "111122223333", "444455556666"
ALICE = f"arn:aws:iam::{HOME}:user/alice"


def trust(principal: dict, *, actions=("sts:AssumeRole",), condition=None) -> Policy:
    statement = {"Effect": "Allow", "Principal": principal, "Action": list(actions)}
    if condition:
        statement["Condition"] = condition
    return parse_policy({"Version": "2012-10-17", "Statement": [statement]}, kind="trust")


def allow(action: str, resource: str = "*", kind: str = "identity") -> Policy:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
    }
    return parse_policy(doc, kind=kind)  # type: ignore[arg-type]


@dataclass
class Directory:
    """A PrincipalSource over plain data (the directory implements the same protocol)."""

    roles: dict[tuple[str, str], RoleDefinition] = field(default_factory=dict)
    users: dict[tuple[str, str], PrincipalPolicies] = field(default_factory=dict)
    web_providers: dict[tuple[str, str], WebIdentityProvider] = field(default_factory=dict)
    saml_providers: dict[str, SamlProviderEntry] = field(default_factory=dict)
    organization: tuple[str, frozenset[str]] | None = None  # (o-id, member accounts)
    managed: dict[tuple[str, str], dict] = field(default_factory=dict)  # (owner, name) -> doc

    def add_role(self, account, name, trust_policy, *, policies=(), max_session=3600):
        self.roles[(account, name)] = RoleDefinition(
            arn=f"arn:aws:iam::{account}:role/{name}",
            account=account,
            name=name,
            trust_policy=trust_policy,
            policies=PrincipalPolicies(identity=tuple(policies)),
            max_session_duration=max_session,
        )
        return f"arn:aws:iam::{account}:role/{name}"

    def role(self, account, name):
        return self.roles.get((account, name))

    def user_policies(self, account, user):
        return self.users.get((account, user), PrincipalPolicies())

    def web_identity_provider(self, account, issuer):
        return self.web_providers.get((account, issuer))

    def saml_provider(self, arn):
        return self.saml_providers.get(arn)

    def organization_id(self, account):
        if self.organization is None or account not in self.organization[1]:
            return None
        return self.organization[0]

    def managed_policy(self, owner, name):
        return self.managed.get((owner, name))
