"""The ``local`` minter: the broker's own STS, called in-process by the client helper.

It takes the sign-in's own proof (the OIDC ID token or the SAML response the provider
verified) through exactly the checks the HTTP API applies — AssumeRoleWithWebIdentity or
AssumeRoleWithSAML, the role's trust policy, durations capped by the IdP session — after the
directory confirms the person is assigned that role. Every mint and every refusal is written to
the audit log before ``mint`` returns or raises.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from broker.audit import AuditLog, cloudtrail_event
from broker.errors import StsError
from broker.minters.base import Credentials, MintRequest
from broker.sts.operations import Outcome
from broker.sts.principals import PrincipalSource
from broker.sts.replay import MemoryReplayCache
from broker.sts.saml_assertion import assume_role_with_saml
from broker.sts.session_policies import SessionPolicyStore
from broker.sts.signing_keys import KeyRing
from broker.sts.web_identity import WebIdentityVerifier, assume_role_with_web_identity
from providers.base import Claims, SignInResult

__all__ = ["AssignmentCheck", "LocalMinter"]

AssignmentCheck = Callable[[Claims, str, str], bool]
"""``(claims, account_id, role_name) -> assigned?``: the directory's account assignments."""

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
        audit: AuditLog,
        session_policies: SessionPolicyStore,
        web_identity: WebIdentityVerifier | None = None,
    ) -> None:
        self.ring = ring
        self.principals = principals
        self.assigned = assigned
        self.audit = audit
        self.session_policies = session_policies
        self.web_identity = web_identity or WebIdentityVerifier()
        self.replay_cache = MemoryReplayCache()

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
        action = "AssumeRoleWithWebIdentity" if identity.id_token else "AssumeRoleWithSAML"
        try:
            outcome = self._mint(identity, request, action, params)
        except StsError as exc:
            self._audit(action, identity, params, request, None, exc)
            raise
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
        self, identity: SignInResult, request: MintRequest, action: str, params: dict[str, str]
    ) -> Outcome:
        if not self.assigned(identity.claims, request.account_id, request.role_name):
            raise StsError(
                f"{identity.claims.subject} is not assigned {request.role_name} in "
                f"{request.account_id}; see `broker assignments`",
                code="AccessDenied",
            )
        if identity.id_token:
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
