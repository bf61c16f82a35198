"""The STS actions of a directory user's own: GetCallerIdentity, GetSessionToken and
GetFederationToken (who may call each, and what GetFederationToken authorizes, is in
``broker.sts.authorization``). AssumeRole* live in their own modules.

Each action takes the ``StsContext``, the authenticated ``Caller`` and its typed request, and
returns an ``Outcome`` with the typed result (``broker.sts.results``).
"""

from __future__ import annotations

from datetime import datetime

from broker.errors import PolicyError, StsError
from broker.policy import PolicySet, parse_policy
from broker.sts.authorization import (
    caller_side,
    decide_actions,
    principal_context,
    request_tag_context,
    require_caller,
)
from broker.sts.callers import Caller
from broker.sts.context import StsContext
from broker.sts.credential_format import SESSION_PREFIX, new_access_key_id, new_token_id
from broker.sts.durations import DurationRequest, Operation, session_expiry
from broker.sts.managed_policies import check_policy_arns, resolve_session_policies
from broker.sts.parameters import check_extras, check_name
from broker.sts.requests import (
    GetCallerIdentityRequest,
    GetFederationTokenRequest,
    GetSessionTokenRequest,
)
from broker.sts.results import (
    CallerIdentityResult,
    FederatedUser,
    FederationTokenResult,
    Outcome,
    SessionCredentials,
    SessionTokenResult,
)
from broker.sts.session_policies import SessionPolicySource
from broker.sts.session_token import SessionClaims, policy_digest, sign_session
from broker.sts.signing_keys import KeyRing

__all__ = [
    "ROLE_ACTIONS",
    "check_session_policy",
    "get_caller_identity",
    "get_federation_token",
    "get_session_token",
    "mint_credentials",
]

ROLE_ACTIONS = ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")


def mint_credentials(ring: KeyRing, claims: SessionClaims) -> SessionCredentials:
    """Sign ``claims`` into the session's credentials."""
    token, secret = sign_session(ring, claims)
    return SessionCredentials(claims.access_key_id, secret, token, claims.expires_at)


def get_caller_identity(
    deps: StsContext, caller: Caller, request: GetCallerIdentityRequest
) -> Outcome[CallerIdentityResult]:
    """Who is calling: UserId, Account, Arn. Needs no permission, as in STS (nor anything of
    ``deps``: it takes them for the one signature every operation has)."""
    require_caller("GetCallerIdentity", caller)
    result = CallerIdentityResult(caller.user_id, caller.account, caller.arn)
    return Outcome("GetCallerIdentity", result)


def _expiry(action: Operation, requested: int | None, now: datetime, *, root: bool) -> datetime:
    return session_expiry(DurationRequest(action, requested, root=root), now)


def get_session_token(
    deps: StsContext, caller: Caller, request: GetSessionTokenRequest
) -> Outcome[SessionTokenResult]:
    """Temporary credentials for a directory user's long-term key (up to 36 h); with
    ``serial_number`` and ``token_code`` the session carries MFA."""
    root = require_caller("GetSessionToken", caller) == "root"
    with_mfa = False
    if request.serial_number is not None or request.token_code is not None:
        if deps.mfa is None:
            raise StsError(
                "MultiFactorAuthentication failed with invalid MFA one time pass code.",
                code="AccessDenied",
            )
        with_mfa = deps.mfa.verify(
            caller.account, caller.user, request.serial_number, request.token_code
        )
    now = deps.now()
    claims = SessionClaims(
        kind="user-session",
        access_key_id=new_access_key_id(SESSION_PREFIX),
        session_id=new_token_id(),
        arn=caller.arn,
        account=caller.account,
        user=caller.user,
        issued_at=now,
        expires_at=_expiry("GetSessionToken", request.duration_seconds, now, root=root),
        mfa=with_mfa,
    )
    credentials = mint_credentials(deps.ring, claims)
    return Outcome("GetSessionToken", SessionTokenResult(credentials), claims)


def check_session_policy(text: str | None, store: SessionPolicySource | None) -> None:
    """Validate a session policy with the engine (``MalformedPolicyDocument``) and keep it."""
    if text is None:
        return
    try:
        parse_policy(text, kind="session")
    except PolicyError as exc:
        raise StsError(str(exc), code="MalformedPolicyDocument") from None
    if store is not None:
        store.put(text)


def get_federation_token(
    deps: StsContext,
    caller: Caller,
    request: GetFederationTokenRequest,
    *,
    source_ip: str | None = None,
) -> Outcome[FederationTokenResult]:
    """A federated-user session named ``name``, as STS decides it: the caller's policies must
    allow ``sts:GetFederationToken`` (and ``sts:TagSession`` for tags); the session may do
    only what both the user's policies and the session policies passed allow (nothing
    without a session policy). Without a directory there are no policies to decide by, so
    the call is refused."""
    root = require_caller("GetFederationToken", caller) == "root"
    name = check_name(request.name, "Name", 2, 32)
    extras = check_extras(request.policy, request.policy_arns, request.tags, ())
    arns = check_policy_arns(request.policy_arns)
    now = deps.now()
    expires = _expiry("GetFederationToken", request.duration_seconds, now, root=root)
    source, policies = deps.principals, deps.session_policies
    if source is None or policies is None:
        raise StsError(
            "GetFederationToken needs the directory's policies to authorize the caller; "
            "configure <config>/directory for `broker serve`.",
            code="AccessDenied",
        )
    arn = f"arn:aws:sts::{caller.account}:federated-user/{name}"
    side = caller_side(caller, source, policies)
    policy_set = PolicySet(
        identity=side.policies.identity,
        boundary=side.policies.boundary,
        scp_hierarchy=side.policies.scp_hierarchy,
        management_account=side.policies.management_account,
    )
    context = principal_context(caller, side.principal_arn, now, source, source_ip)
    context.update(request_tag_context(extras.tags))
    actions = ["sts:GetFederationToken", *(["sts:TagSession"] if extras.tags else [])]
    decide_actions(caller, policy_set, actions, arn, caller.account, context)
    session_policies = resolve_session_policies(
        extras.policy, arns, caller.account, source, policies
    )
    claims = SessionClaims(
        kind="federated-user",
        access_key_id=new_access_key_id(SESSION_PREFIX),
        session_id=new_token_id(),
        arn=arn,
        account=caller.account,
        user=caller.user,
        issued_at=now,
        expires_at=expires,
        session_name=name,
        tags=extras.tags,
        policy_digest=policy_digest(session_policies.text),
    )
    result = FederationTokenResult(
        mint_credentials(deps.ring, claims),
        FederatedUser(f"{caller.account}:{name}", arn),
        extras.packed_percent,
    )
    return Outcome("GetFederationToken", result, claims)
