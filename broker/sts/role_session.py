"""Minting a role session: what AssumeRole, AssumeRoleWithWebIdentity and AssumeRoleWithSAML
share once each has decided the caller may have the role."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from broker.errors import StsError
from broker.policy import CompiledPolicySet, Policy, PolicySet, Request, compile_policy_set
from broker.sts.authorization import request_tag_context
from broker.sts.callers import stable_id
from broker.sts.credential_format import SESSION_PREFIX, new_access_key_id, new_token_id
from broker.sts.operations import mint_credentials
from broker.sts.principals import RoleDefinition
from broker.sts.results import AssumedRoleUser, SessionCredentials
from broker.sts.session_token import SessionClaims, policy_digest
from broker.sts.signing_keys import KeyRing

__all__ = [
    "RoleSession",
    "authorize_federated_extras",
    "federated_trust_allows",
    "mint_role_session",
    "trust_policy_set",
]


_TRUST_CACHE_LIMIT = 256
_compiled_trust: dict[int, tuple[Policy, CompiledPolicySet]] = {}


def trust_policy_set(role: RoleDefinition) -> CompiledPolicySet:
    """The role's trust policy alone, compiled once per policy object (not per request).

    Keyed by the policy object's identity and holding that object, so an entry can never
    answer for another policy; a reloaded directory brings new objects and new entries.
    """
    policy = role.trust_policy
    entry = _compiled_trust.get(id(policy))
    if entry is None or entry[0] is not policy:
        if len(_compiled_trust) >= _TRUST_CACHE_LIMIT:
            _compiled_trust.clear()
        entry = (policy, compile_policy_set(PolicySet(resource=(policy,))))
        _compiled_trust[id(policy)] = entry
    return entry[1]


def federated_trust_allows(
    role: RoleDefinition | None, action: str, provider_arn: str, context: Mapping[str, Any]
) -> bool:
    """A web-identity or SAML caller is the provider: the role's trust policy alone decides."""
    if role is None:
        return False
    request = Request(action, role.arn, provider_arn, role.account, role.account, context)
    return trust_policy_set(role).evaluate(request, explain=False).allowed


def authorize_federated_extras(
    role: RoleDefinition,
    provider_arn: str,
    context: Mapping[str, Any],
    tags: Mapping[str, str],
    source_identity: str | None,
) -> None:
    """Session tags and a source identity a federated caller brings (SAML attributes, the
    broker's own federation) need the trust policy to allow ``sts:TagSession`` /
    ``sts:SetSourceIdentity`` too, as for AssumeRole; ``AccessDenied`` otherwise."""
    if tags:
        tagged = {**context, **request_tag_context(tags)}
        if not federated_trust_allows(role, "sts:TagSession", provider_arn, tagged):
            raise StsError(
                "Not authorized to perform sts:TagSession for the session's tags; the role's "
                "trust policy must allow it.",
                code="AccessDenied",
            )
    if source_identity is not None:
        sourced = {**context, "sts:SourceIdentity": source_identity}
        if not federated_trust_allows(role, "sts:SetSourceIdentity", provider_arn, sourced):
            raise StsError(
                "Not authorized to perform sts:SetSourceIdentity for the session's source "
                "identity; the role's trust policy must allow it.",
                code="AccessDenied",
            )


@dataclass(frozen=True)
class RoleSession:
    """A decided role session, ready to mint."""

    role: RoleDefinition
    session_name: str
    user: str
    issued_at: datetime
    expires_at: datetime
    policy: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    transitive_tag_keys: tuple[str, ...] = ()
    source_identity: str | None = None
    chained: bool = False
    mfa: bool = False


def mint_role_session(
    ring: KeyRing, spec: RoleSession
) -> tuple[SessionClaims, SessionCredentials, AssumedRoleUser]:
    """The session's claims, its credentials and its assumed-role user."""
    role = spec.role
    arn = f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{spec.session_name}"
    claims = SessionClaims(
        kind="assumed-role",
        access_key_id=new_access_key_id(SESSION_PREFIX),
        session_id=new_token_id(),
        arn=arn,
        account=role.account,
        user=spec.user,
        issued_at=spec.issued_at,
        expires_at=spec.expires_at,
        role_arn=role.arn,
        session_name=spec.session_name,
        source_identity=spec.source_identity,
        tags=spec.tags,
        transitive_tag_keys=spec.transitive_tag_keys,
        policy_digest=policy_digest(spec.policy),
        chained=spec.chained,
        mfa=spec.mfa,
    )
    assumed = AssumedRoleUser(f"{stable_id('BRKR', role.arn)}:{spec.session_name}", arn)
    return claims, mint_credentials(ring, claims), assumed
