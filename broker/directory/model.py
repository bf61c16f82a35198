"""The directory configuration's schema: one frozen dataclass per TOML table.

These are what ``config/directory/*.toml`` hold, read strictly with ``broker.config.from_table``
(unknown keys are errors). ``broker/directory/jsonschema.py`` generates the JSON Schema from
these same classes, so the documentation of each file cannot drift from the loader. Field
docstrings live in ``FIELD_DOCS`` (dataclasses have no per-field docstrings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "FIELD_DOCS",
    "FILES",
    "AccountSpec",
    "AssignmentSpec",
    "DirectorySpec",
    "GroupSpec",
    "IdentityMappingSpec",
    "OUSpec",
    "OidcProviderSpec",
    "OrganizationSpec",
    "PermissionSetSpec",
    "RoleSpec",
    "RootUserSpec",
    "SamlProviderSpec",
    "ScpSpec",
    "UserSpec",
]


@dataclass(frozen=True)
class RootUserSpec:
    """The account's root user: for break-glass only, so it must have MFA and no access keys."""

    mfa: bool = True
    access_keys: bool = False


@dataclass(frozen=True)
class AccountSpec:
    id: str
    email: str
    ou: str = "root"
    scps: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    root_user: RootUserSpec = field(default_factory=RootUserSpec)


@dataclass(frozen=True)
class OUSpec:
    parent: str = "root"
    scps: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScpSpec:
    policy: str
    description: str = ""


@dataclass(frozen=True)
class OrganizationSpec:
    management_account: str
    scps: tuple[str, ...] = ()
    id: str = ""


@dataclass(frozen=True)
class UserSpec:
    email: str
    display_name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    service: bool = False
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupSpec:
    description: str = ""
    members: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()


@dataclass(frozen=True)
class PermissionSetSpec:
    description: str = ""
    managed_policies: tuple[str, ...] = ()
    customer_policies: tuple[str, ...] = ()
    inline_policy: str | None = None
    permissions_boundary: str | None = None
    session_duration: str = "PT1H"
    relay_state: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AssignmentSpec:
    permission_set: str
    accounts: tuple[str, ...]
    user: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class RoleSpec:
    account: str
    name: str
    trust_policy: str
    path: str = "/"
    description: str = ""
    policies: tuple[str, ...] = ()
    permissions_boundary: str | None = None
    max_session_duration: int = 3600
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityMappingSpec:
    user_claim: str = "email"
    match_on: Literal["email", "name"] = "email"
    groups_claim: str = "groups"
    group_map: Mapping[str, str] = field(default_factory=dict)
    unknown_users: Literal["refuse", "jit"] = "refuse"
    principal_tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OidcProviderSpec:
    """An IAM OpenID Connect provider (``CreateOpenIDConnectProvider``) in one account."""

    account: str
    url: str
    client_ids: tuple[str, ...]
    jwks_uri: str = ""
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SamlProviderSpec:
    """An IAM SAML provider (``CreateSAMLProvider``) in one account: name + IdP metadata."""

    account: str
    name: str
    metadata: str
    entity_id: str
    audience: str = "urn:amazon:webservices"
    acs_url: str = "https://signin.aws.amazon.com/saml"
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DirectorySpec:
    """The whole directory as configured (every file merged), before cross-checking."""

    organization: OrganizationSpec
    scps: Mapping[str, ScpSpec] = field(default_factory=dict)
    ous: Mapping[str, OUSpec] = field(default_factory=dict)
    accounts: Mapping[str, AccountSpec] = field(default_factory=dict)
    users: Mapping[str, UserSpec] = field(default_factory=dict)
    groups: Mapping[str, GroupSpec] = field(default_factory=dict)
    permission_sets: Mapping[str, PermissionSetSpec] = field(default_factory=dict)
    assignments: tuple[AssignmentSpec, ...] = ()
    roles: tuple[RoleSpec, ...] = ()
    identity: Mapping[str, IdentityMappingSpec] = field(default_factory=dict)
    oidc_providers: tuple[OidcProviderSpec, ...] = ()
    saml_providers: tuple[SamlProviderSpec, ...] = ()


# Which top-level keys each file under config/directory/ may hold.
FILES: Mapping[str, tuple[str, ...]] = {
    "organization.toml": ("organization", "scps", "ous", "accounts"),
    "users.toml": ("users",),
    "groups.toml": ("groups",),
    "permission-sets.toml": ("permission_sets",),
    "assignments.toml": ("assignments",),
    "roles.toml": ("roles",),
    "identity.toml": ("identity",),
    "identity-providers.toml": ("oidc_providers", "saml_providers"),
}

FIELD_DOCS: Mapping[str, str] = {
    "RootUserSpec.mfa": "the root user has an MFA device (validation warns when false)",
    "RootUserSpec.access_keys": "the root user has access keys (validation warns when true)",
    "AccountSpec.id": "12-digit AWS account id",
    "AccountSpec.email": "the account's root email address",
    "AccountSpec.ou": "the OU the account sits in, or 'root'",
    "AccountSpec.scps": "names of SCPs (under [scps]) attached to the account",
    "AccountSpec.tags": "account tags",
    "OUSpec.parent": "the parent OU, or 'root'",
    "OUSpec.scps": "names of SCPs attached to the OU",
    "ScpSpec.policy": "policy file name under config/policies/ (without .json)",
    "OrganizationSpec.management_account": "name of the management account (SCPs never apply)",
    "OrganizationSpec.scps": "SCPs attached to the organization root",
    "OrganizationSpec.id": "the Organizations id, 'o-' then 10-32 lowercase letters or digits",
    "UserSpec.email": "primary email; identity mappings may match on it",
    "UserSpec.service": "a service user: may hold long-term access keys (broker access-keys)",
    "GroupSpec.members": "user names; groups cannot contain groups",
    "UserSpec.policies": "identity policies of the user itself (policies/), for its own keys",
    "GroupSpec.policies": "identity policies every member gets (policies/)",
    "PermissionSetSpec.managed_policies": "AWS-managed-style policy files under policies/",
    "PermissionSetSpec.customer_policies": "customer-managed policy files under policies/",
    "PermissionSetSpec.inline_policy": "an inline policy as a JSON string",
    "PermissionSetSpec.permissions_boundary": "a policy under config/policies/ bounding the role",
    "PermissionSetSpec.session_duration": "ISO 8601 duration from PT1H to PT12H",
    "AssignmentSpec.permission_set": "the permission set to assign",
    "AssignmentSpec.accounts": "account names or ids",
    "AssignmentSpec.user": "the user assigned (exactly one of user or group)",
    "AssignmentSpec.group": "the group assigned (exactly one of user or group)",
    "RoleSpec.account": "account name or id the role lives in",
    "RoleSpec.trust_policy": "policy file under config/policies/ saying who may assume the role",
    "RoleSpec.max_session_duration": "seconds, 3600 to 43200",
    "IdentityMappingSpec.user_claim": "claim naming the user: sub, email, name_id or attr:NAME",
    "IdentityMappingSpec.match_on": "the directory user field the claim is matched against",
    "IdentityMappingSpec.groups_claim": "claim or SAML attribute holding IdP group names",
    "IdentityMappingSpec.group_map": "IdP group name -> directory group name",
    "IdentityMappingSpec.unknown_users": "refuse unknown users, or provision them just in time",
    "IdentityMappingSpec.principal_tags": "principal tag key -> claim or attribute name",
    "OidcProviderSpec.account": "account name or id the provider entry lives in",
    "OidcProviderSpec.url": "the issuer URL exactly as tokens carry it in 'iss' (https)",
    "OidcProviderSpec.client_ids": "audiences accepted in 'aud' (1 to 100 client ids)",
    "OidcProviderSpec.jwks_uri": "where the issuer's keys are; empty: from its discovery document",
    "OidcProviderSpec.algorithms": "accepted ID token signature algorithms (asymmetric only)",
    "SamlProviderSpec.account": "account name or id the provider entry lives in",
    "SamlProviderSpec.name": "the provider name in arn:aws:iam::ACCT:saml-provider/NAME",
    "SamlProviderSpec.metadata": "IdP metadata file under config/saml/ (without .xml)",
    "SamlProviderSpec.entity_id": "the IdP's entity id (the assertion's Issuer)",
    "SamlProviderSpec.audience": "the Audience assertions must name (AWS's by default)",
    "SamlProviderSpec.acs_url": "the Recipient/Destination assertions must name",
}
