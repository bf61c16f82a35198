"""The directory as STS's ``PrincipalSource``: roles, users' policies, the broker's SSO provider.

Policy documents come from the directory as JSON and are parsed by ``broker.policy`` once per
distinct document (cached by canonical text, so a rebuilt directory with changed documents is
parsed again, unchanged ones are not). The directory provisions every permission-set role with
a trust policy for ``saml-provider/AWSSSO_AccessBroker_DO_NOT_DELETE``: the broker itself is
that provider (as IAM Identity Center is), which the local minter uses. Outside IdPs are the
directory's IAM identity provider entries (``identity-providers.toml``): an OIDC provider per
account and issuer for AssumeRoleWithWebIdentity, a SAML provider per ARN (certificates pinned
from its metadata) for AssumeRoleWithSAML.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from broker.errors import ConfigError, DirectoryError
from broker.policy import Policy, PolicyKind, parse_policy
from broker.sts.principals import (
    PrincipalPolicies,
    RoleDefinition,
    SamlProviderEntry,
    WebIdentityProvider,
)

if TYPE_CHECKING:
    from broker.directory import Directory

__all__ = ["DirectoryPrincipals", "broker_saml_provider_arn"]

_SSO_PROVIDER = "AWSSSO_AccessBroker_DO_NOT_DELETE"


def broker_saml_provider_arn(account: str) -> str:
    """The SAML provider a permission-set role trusts: the broker itself."""
    return f"arn:aws:iam::{account}:saml-provider/{_SSO_PROVIDER}"


class DirectoryPrincipals:
    """``PrincipalSource`` over a loaded ``broker.directory.Directory``."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._parsed: dict[tuple[str, str], Policy] = {}
        self._saml: dict[str, SamlProviderEntry] = {}
        self._lock = threading.Lock()

    def _policy(self, doc: Mapping[str, Any], kind: PolicyKind, name: str) -> Policy:
        key = (kind, json.dumps(doc, sort_keys=True))
        with self._lock:
            found = self._parsed.get(key)
        if found is None:
            found = parse_policy(dict(doc), kind=kind, name=name)
            with self._lock:
                self._parsed[key] = found
        return found

    def _account_side(self, account: str) -> tuple[tuple[tuple[Policy, ...], ...], bool]:
        levels = self.directory.scp_hierarchy(account)
        scps = tuple(
            tuple(self._policy(doc, "scp", f"scp[{i}]") for doc in level)
            for i, level in enumerate(levels)
        )
        return scps, bool(self.directory.is_management_account(account))

    def organization_id(self, account: str) -> str | None:
        return self.directory.organization_id(account)

    def managed_policy(self, owner: str, name: str) -> Mapping[str, Any] | None:
        return self.directory.managed_policy(owner, name)

    def role(self, account: str, name: str) -> RoleDefinition | None:
        try:
            role = self.directory.role(account, name)
        except DirectoryError:
            return None
        scps, management = self._account_side(account)
        boundary = role.permissions_boundary
        policies = PrincipalPolicies(
            identity=tuple(
                self._policy(doc, "identity", f"{role.arn}#{i}")
                for i, doc in enumerate(role.permission_policies)
            ),
            boundary=self._policy(boundary, "boundary", f"{role.arn}#boundary")
            if boundary
            else None,
            scp_hierarchy=scps,
            management_account=management,
        )
        return RoleDefinition(
            arn=role.arn,
            account=account,
            name=role.name,
            trust_policy=self._policy(role.trust_policy, "trust", f"{role.arn}#trust"),
            policies=policies,
            max_session_duration=int(role.max_session_duration),
            tags=dict(role.tags),
        )

    def user_policies(self, account: str, user: str) -> PrincipalPolicies:
        try:
            found = self.directory.user(user)
        except DirectoryError:
            return PrincipalPolicies()
        scps, management = self._account_side(account)
        identity = tuple(
            self._policy(doc, "identity", f"user/{user}#{i}")
            for i, doc in enumerate(self.directory.identity_policies(found))
        )
        return PrincipalPolicies(identity, None, scps, management)

    def web_identity_provider(self, account: str, issuer: str) -> WebIdentityProvider | None:
        entry = self.directory.oidc_provider(account, issuer)
        if entry is None:
            return None
        return WebIdentityProvider(
            arn=entry.arn,
            issuer=entry.url,
            client_ids=entry.client_ids,
            jwks_uri=entry.jwks_uri,
            algorithms=entry.algorithms,
        )

    def saml_provider(self, arn: str) -> SamlProviderEntry | None:
        with self._lock:
            found = self._saml.get(arn)
        if found is not None:
            return found
        entry = self.directory.saml_provider(arn)
        if entry is None:
            return None
        from broker.tokens.saml.metadata import signing_certificates_from_idp_metadata

        try:
            certificates = signing_certificates_from_idp_metadata(
                entry.metadata.encode(), source=f"saml provider {arn}", entity_id=entry.entity_id
            )
        except ConfigError:
            return None  # `broker directory validate` reports it; nothing is trusted meanwhile
        found = SamlProviderEntry(
            arn=arn,
            idp_entity_id=entry.entity_id,
            certificates=certificates,
            audience=entry.audience,
            acs_url=entry.acs_url,
        )
        with self._lock:
            self._saml[arn] = found
        return found
