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
from datetime import datetime
from typing import TYPE_CHECKING, Any

from broker.audit import cloudtrail_event
from broker.audit.sink import AuditSink
from broker.errors import StsError
from broker.minters.base import Credentials, MintRequest
from broker.sts.context import StsContext, utc_now
from broker.sts.directory_source import broker_saml_provider_arn
from broker.sts.durations import DurationRequest, session_expiry
from broker.sts.operations import check_session_policy
from broker.sts.principals import PrincipalSource
from broker.sts.requests import AssumeRoleWithSamlRequest, AssumeRoleWithWebIdentityRequest
from broker.sts.results import (
    AssumeRoleResult,
    AssumeRoleWithSamlResult,
    AssumeRoleWithWebIdentityResult,
    Outcome,
)
from broker.sts.role_session import (
    RoleSession,
    authorize_federated_extras,
    federated_trust_allows,
    mint_role_session,
)
from broker.sts.saml_assertion import assume_role_with_saml
from broker.sts.session_policies import SessionPolicySource
from broker.sts.signing_keys import KeyRing, KeyRingSource
from broker.sts.web_identity import WebIdentityVerifier, assume_role_with_web_identity
from providers.base import Claims, ReplayCache, SignInResult
from providers.registry import local_keys

if TYPE_CHECKING:
    from broker.config import BrokerConfig
    from broker.directory import Directory
    from broker.sts.state_handle import StateHandle

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
    """``Minter`` backed by the broker's own keys, directory and audit log.

    It runs the STS's own operations in-process with its ``StsContext``. ``clock`` is that
    STS's time: when sessions are issued (and so expire) and the instant a SAML response's
    conditions are checked at; the ID-token verifier keeps its own clock, as at ``broker serve``.
    """

    name = "local"

    def __init__(
        self,
        ring: KeyRing | KeyRingSource,
        principals: PrincipalSource,
        assigned: AssignmentCheck,
        *,
        audit: AuditSink,
        session_policies: SessionPolicySource,
        replay_cache: ReplayCache,
        web_identity: WebIdentityVerifier | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.assigned = assigned
        self.audit = audit
        self.principals = principals
        # the state's replay cache: a SAML response is accepted once, in any process
        self.context = StsContext(
            ring,
            principals=principals,
            session_policies=session_policies,
            saml_replay_cache=replay_cache,
            web_identity=web_identity or WebIdentityVerifier(),
            clock=clock,
        )

    @property
    def ring(self) -> KeyRing:
        """The current key ring (re-read per mint when given a ``KeyRingSource``)."""
        return self.context.ring

    def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
        """Mint for ``identity`` in ``request.role_name`` of ``request.account_id``.

        Raises:
            StsError: not assigned, refused by trust, bad duration (STS's codes).
            AuditError: the audit log cannot be written; nothing was issued.
        """
        asked = _Asked(
            role_arn=f"arn:aws:iam::{request.account_id}:role/{request.role_name}",
            session_name=_session_name(identity.claims, request.session_name),
            request=request,
        )
        # A refusal before a path is chosen is logged as the broker's own federation.
        action = AssumeRoleWithSamlRequest.action
        try:
            user = self._assigned_user(identity, request)
            outcome = self._as_broker_federation(identity, asked, user)
            if outcome is None:
                call = self._with_sign_in_proof(identity, asked)
                action = call.action
                outcome = self._operate(call)
        except StsError as exc:
            self._audit(action, identity, asked, None, exc)
            raise
        self._audit(outcome.action, identity, asked, outcome, None)
        minted = outcome.result.credentials
        return Credentials(
            access_key_id=minted.access_key_id,
            secret_access_key=minted.secret_access_key,
            session_token=minted.session_token,
            expiration=minted.expiration,
        )

    def _assigned_user(self, identity: SignInResult, request: MintRequest) -> AssignedUser:
        user = self.assigned(identity.claims, request.account_id, request.role_name)
        if user is None:
            raise StsError(
                f"{identity.claims.email or identity.claims.subject} is not assigned "
                f"{request.role_name} in {request.account_id}; `broker configure aws` writes "
                "a profile for each assignment held",
                code="AccessDenied",
            )
        return user

    def _with_sign_in_proof(self, identity: SignInResult, asked: _Asked) -> _ProofRequest:
        """For a role trusting an outside IdP: the sign-in's own ID token, else its SAML
        response, as a typed request of the operation that checks it."""
        request = asked.request
        if identity.id_token:
            return AssumeRoleWithWebIdentityRequest(
                role_arn=asked.role_arn,
                role_session_name=asked.session_name,
                web_identity_token=identity.id_token,
                duration_seconds=request.duration_seconds,
                policy=request.session_policy,
            )
        provider = _saml_provider_for(identity.claims, asked.role_arn)
        if identity.saml_response is None or provider is None:
            from broker.login_advice import plain_login_advice

            raise StsError(
                "This sign-in carries no ID token or SAML response naming the role; sign in "
                "again: ",
                code="AccessDenied",
                sign_in=plain_login_advice(identity.claims.provider),
            )
        return AssumeRoleWithSamlRequest(
            role_arn=asked.role_arn,
            principal_arn=provider,
            saml_assertion=identity.saml_response,
            duration_seconds=request.duration_seconds,
            policy=request.session_policy,
        )

    def _operate(self, call: _ProofRequest) -> Outcome[_RoleResult]:
        if isinstance(call, AssumeRoleWithWebIdentityRequest):
            return assume_role_with_web_identity(self.context, call)
        return assume_role_with_saml(self.context, call)

    def _as_broker_federation(
        self, identity: SignInResult, asked: _Asked, user: AssignedUser
    ) -> Outcome[_RoleResult] | None:
        """Identity Center's path: the broker is the SAML provider the role trusts."""
        request = asked.request
        role = self.principals.role(request.account_id, request.role_name)
        provider = broker_saml_provider_arn(request.account_id)
        now = self.context.now()
        context = {
            "saml:sub": user.name,
            "saml:sub_type": "persistent",
            "saml:aud": "https://signin.aws.amazon.com/saml",
            "saml:iss": identity.claims.issuer,
            "aws:FederatedProvider": provider,
            "sts:RoleSessionName": asked.session_name,
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
        check_session_policy(request.session_policy, self.context.session_policies)
        claims, credentials, assumed = mint_role_session(
            self.ring,
            RoleSession(
                role,
                asked.session_name,
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
        result = AssumeRoleResult(credentials, assumed, source_identity=source_identity)
        return Outcome("AssumeRoleWithSAML", result, claims, who)

    def _audit(
        self,
        action: str,
        identity: SignInResult,
        asked: _Asked,
        outcome: Outcome[_RoleResult] | None,
        error: StsError | None,
    ) -> None:
        who: dict[str, Any] = dict(outcome.identity) if outcome and outcome.identity else {}
        who.setdefault("type", "WebIdentityUser" if identity.id_token else "SAMLUser")
        who.setdefault("userName", identity.claims.subject)
        who["brokerUser"] = identity.claims.email or identity.claims.subject
        request = asked.request
        parameters = {
            "roleArn": asked.role_arn,
            "roleSessionName": asked.session_name,
            # as the Query API records it: the parameter's text
            "durationSeconds": str(request.duration_seconds),
            "reason": request.reason,
        }
        self.audit.append(
            cloudtrail_event(
                action,
                user_identity=who,
                request_id=str(uuid.uuid4()),
                user_agent="broker/local-minter",
                request_parameters=parameters,
                response_elements=outcome.response_elements if outcome else None,
                error_code=error.code if error else None,
                error_message=str(error) if error else None,
                recipient_account=request.account_id,
            )
        )


@dataclass(frozen=True)
class _Asked:
    """One mint request as the STS sees it: the role's ARN and the session's name."""

    role_arn: str
    session_name: str
    request: MintRequest


_ProofRequest = AssumeRoleWithWebIdentityRequest | AssumeRoleWithSamlRequest
_RoleResult = AssumeRoleResult | AssumeRoleWithWebIdentityResult | AssumeRoleWithSamlResult


def build_minter(config: BrokerConfig, state: StateHandle) -> LocalMinter:
    """The local minter over the one state ``broker serve`` uses.

    The signing keys, session-policy texts and audit chain are the state database's: the
    configured one (PostgreSQL shared by replicas), else the data directory's embedded SQLite,
    as every ``broker serve`` of that deployment opens it. So credentials minted here verify at
    every replica, their mint lands in the one audit chain, and ``broker sts revoke`` through
    any replica stops them. The state is the front end's (``state``), opened on first need.
    """
    from broker.directory import load_directory
    from broker.sts.directory_source import DirectoryPrincipals

    data = state.data_dir
    opened = state.state()
    directory = load_directory(config.directory, opened.shared.database)
    return LocalMinter(
        opened.ring,
        DirectoryPrincipals(directory),
        directory_assignments(directory),
        audit=opened.shared.audit,
        session_policies=opened.shared.session_policies,
        replay_cache=opened.shared.replay,
        web_identity=WebIdentityVerifier(local_keys=local_keys(data)),
    )
