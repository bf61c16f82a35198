"""The ``local`` minter: the broker's own STS, called in-process by the client helper.

First the directory must confirm the person is assigned the role. Then, as IAM Identity
Center does, the broker federates the person itself: a permission-set role trusts
``saml-provider/AWSSSO_AccessBroker_DO_NOT_DELETE`` (the broker), so its trust policy is
evaluated for that provider with ``saml:sub``/``saml:aud``/``saml:iss`` from the verified
claims, and the session carries the user's directory tags and email as source identity, never
outliving the IdP session. A role that trusts an outside IdP instead gets the sign-in's own
proof (OIDC ID token or SAML response) through exactly the checks the HTTP API applies. Every
mint and every refusal is written to the audit log before ``mint`` returns or raises.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from broker.audit import cloudtrail_event
from broker.audit.sink import AuditSink
from broker.errors import StsError
from broker.minters.base import Credentials, MintRequest
from broker.sts.directory_source import broker_saml_provider_arn
from broker.sts.durations import DurationRequest, session_expiry
from broker.sts.operations import Outcome, check_session_policy
from broker.sts.principals import PrincipalSource
from broker.sts.role_session import (
    RoleSession,
    authorize_federated_extras,
    federated_trust_allows,
    mint_role_session,
)
from broker.sts.saml_assertion import assume_role_with_saml
from broker.sts.session_policies import SessionPolicySource
from broker.sts.signing_keys import KeyRing
from broker.sts.web_identity import WebIdentityVerifier, assume_role_with_web_identity
from providers.base import Claims, ReplayCache, SignInResult

if TYPE_CHECKING:
    from broker.config import BrokerConfig
    from broker.directory import Directory

__all__ = [
    "AssignedUser",
    "AssignmentCheck",
    "LocalMinter",
    "build_minter",
    "directory_assignments",
]


@dataclass(frozen=True)
class AssignedUser:
    """The directory user behind a sign-in who holds the requested assignment."""

    name: str
    email: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


AssignmentCheck = Callable[[Claims, str, str], AssignedUser | None]
"""``(claims, account_id, role_name) -> the assigned user, or None``."""


def directory_assignments(directory: Directory) -> AssignmentCheck:
    """The check backed by ``broker.directory`` (identity mapping + account assignments)."""

    def check(claims: Claims, account_id: str, role_name: str) -> AssignedUser | None:
        user = directory.resolve_user(claims)
        held = directory.assignments_of(user)
        if not any(a.account_id == account_id and a.role_name == role_name for a in held):
            return None
        return AssignedUser(user.name, user.email or None, dict(directory.principal_tags(user)))

    return check


_ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"


def _session_name(claims: Claims, requested: str | None) -> str:
    name = requested or claims.email or claims.subject
    return (re.sub(r"[^\w+=,.@-]", "-", name) or "session")[:64].ljust(2, "-")


def _saml_provider_for(claims: Claims, role_arn: str) -> str | None:
    for value in claims.attributes.get(_ROLE_ATTRIBUTE, ()):
        parts = {part.strip() for part in value.split(",")}
        if role_arn in parts:
            others = parts - {role_arn}
            return others.pop() if len(others) == 1 else None
    return None


class LocalMinter:
    """``Minter`` backed by the broker's own keys, directory and audit log."""

    name = "local"

    def __init__(
        self,
        ring: KeyRing,
        principals: PrincipalSource,
        assigned: AssignmentCheck,
        *,
        audit: AuditSink,
        session_policies: SessionPolicySource,
        replay_cache: ReplayCache,
        web_identity: WebIdentityVerifier | None = None,
    ) -> None:
        self.ring = ring
        self.principals = principals
        self.assigned = assigned
        self.audit = audit
        self.session_policies = session_policies
        self.web_identity = web_identity or WebIdentityVerifier()
        self.replay_cache = replay_cache  # the state's: a SAML response is accepted once, anywhere

    def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
        """Mint for ``identity`` in ``request.role_name`` of ``request.account_id``.

        Raises:
            StsError: not assigned, refused by trust, bad duration (STS's codes).
            AuditError: the audit log cannot be written; nothing was issued.
        """
        role_arn = f"arn:aws:iam::{request.account_id}:role/{request.role_name}"
        params: dict[str, str] = {
            "RoleArn": role_arn,
            "RoleSessionName": _session_name(identity.claims, request.session_name),
            "DurationSeconds": str(request.duration_seconds),
        }
        if request.session_policy is not None:
            params["Policy"] = request.session_policy
        attempt = ["AssumeRoleWithSAML"]
        try:
            outcome = self._mint(identity, request, attempt, params)
        except StsError as exc:
            self._audit(attempt[0], identity, params, request, None, exc)
            raise
        action = attempt[0]
        self._audit(action, identity, params, request, outcome, None)
        creds = outcome.result["Credentials"]
        assert isinstance(creds, Mapping)
        return Credentials(
            access_key_id=str(creds["AccessKeyId"]),
            secret_access_key=str(creds["SecretAccessKey"]),
            session_token=str(creds["SessionToken"]),
            expiration=datetime.fromisoformat(str(creds["Expiration"]).replace("Z", "+00:00")),
        )

    def _mint(
        self,
        identity: SignInResult,
        request: MintRequest,
        attempt: list[str],
        params: dict[str, str],
    ) -> Outcome:
        """Mint by the first path the role's trust admits; ``attempt[0]`` names the STS action
        taken (for the audit event)."""
        user = self.assigned(identity.claims, request.account_id, request.role_name)
        if user is None:
            raise StsError(
                f"{identity.claims.email or identity.claims.subject} is not assigned "
                f"{request.role_name} in {request.account_id}; `broker configure aws` writes "
                "a profile for each assignment held",
                code="AccessDenied",
            )
        federated = self._as_broker_federation(identity, request, user, params)
        if federated is not None:
            return federated
        if identity.id_token:
            attempt[0] = "AssumeRoleWithWebIdentity"
            params["WebIdentityToken"] = identity.id_token
            return assume_role_with_web_identity(
                self.ring, self.principals, self.session_policies, self.web_identity, params
            )
        provider = _saml_provider_for(identity.claims, params["RoleArn"])
        if identity.saml_response is None or provider is None:
            raise StsError(
                "This sign-in carries no ID token or SAML response naming the role; sign in "
                "again with `broker login`",
                code="AccessDenied",
            )
        params.update(SAMLAssertion=identity.saml_response, PrincipalArn=provider)
        return assume_role_with_saml(
            self.ring, self.principals, self.session_policies, self.replay_cache, params
        )

    def _as_broker_federation(
        self,
        identity: SignInResult,
        request: MintRequest,
        user: AssignedUser,
        params: Mapping[str, str],
    ) -> Outcome | None:
        """Identity Center's path: the broker is the SAML provider the role trusts."""
        role = self.principals.role(request.account_id, request.role_name)
        provider = broker_saml_provider_arn(request.account_id)
        now = datetime.now(UTC).replace(microsecond=0)
        context = {
            "saml:sub": user.name,
            "saml:sub_type": "persistent",
            "saml:aud": "https://signin.aws.amazon.com/saml",
            "saml:iss": identity.claims.issuer,
            "aws:FederatedProvider": provider,
            "sts:RoleSessionName": params["RoleSessionName"],
            "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": int(now.timestamp()),
        }
        if role is None or not federated_trust_allows(
            role, "sts:AssumeRoleWithSAML", provider, context
        ):
            return None
        source_identity = user.email or user.name
        authorize_federated_extras(role, provider, context, user.tags, source_identity)
        expires = session_expiry(
            DurationRequest(
                "AssumeRoleWithSAML",
                request.duration_seconds,
                role_max=role.max_session_duration,
                idp_session_end=identity.claims.session_not_on_or_after,
            ),
            now,
        )
        check_session_policy(request.session_policy, self.session_policies)
        claims, result, audit = mint_role_session(
            self.ring,
            RoleSession(
                role,
                params["RoleSessionName"],
                user.name,
                now,
                expires,
                policy=request.session_policy,
                tags=user.tags,
                source_identity=source_identity,
                mfa=identity.claims.mfa,
            ),
        )
        who = {
            "type": "SAMLUser",
            "principalId": f"{provider}:{user.name}",
            "userName": user.name,
            "identityProvider": provider,
        }
        return Outcome(result, audit, claims, who)

    def _audit(
        self,
        action: str,
        identity: SignInResult,
        params: Mapping[str, str],
        request: MintRequest,
        outcome: Outcome | None,
        error: StsError | None,
    ) -> None:
        who: dict[str, Any] = dict(outcome.identity) if outcome and outcome.identity else {}
        who.setdefault("type", "WebIdentityUser" if identity.id_token else "SAMLUser")
        who.setdefault("userName", identity.claims.subject)
        who["brokerUser"] = identity.claims.email or identity.claims.subject
        parameters = {
            "roleArn": params["RoleArn"],
            "roleSessionName": params["RoleSessionName"],
            "durationSeconds": params["DurationSeconds"],
            "reason": request.reason,
        }
        self.audit.append(
            cloudtrail_event(
                action,
                user_identity=who,
                request_id=str(uuid.uuid4()),
                user_agent="broker/local-minter",
                request_parameters=parameters,
                response_elements=outcome.audit if outcome else None,
                error_code=error.code if error else None,
                error_message=str(error) if error else None,
                recipient_account=request.account_id,
            )
        )


def build_minter(config: BrokerConfig) -> LocalMinter:
    """The local minter over the one state ``broker serve`` uses.

    The signing keys, session-policy texts and audit chain are the state database's: the
    configured one (PostgreSQL shared by replicas), else the data directory's embedded SQLite,
    as every ``broker serve`` of that deployment opens it. So credentials minted here verify at
    every replica, their mint lands in the one audit chain, and ``broker sts revoke`` through
    any replica stops them. The state stays open for the minter's life (one connection).
    """
    from broker.config.loader import configured_database_url, data_dir
    from broker.directory import load_directory
    from broker.sts.directory_source import DirectoryPrincipals
    from broker.sts.state import open_sts_state

    data = data_dir()
    directory = load_directory(config.directory, data_dir=data)
    state = open_sts_state(configured_database_url(), data, pool_size=1)
    return LocalMinter(
        state.ring,
        DirectoryPrincipals(directory),
        directory_assignments(directory),
        audit=state.shared.audit,
        session_policies=state.shared.session_policies,
        replay_cache=state.shared.replay,
        web_identity=WebIdentityVerifier(data_dir=data),
    )
