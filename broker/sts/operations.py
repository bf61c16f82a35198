"""The STS actions of a directory user's own: GetCallerIdentity, GetSessionToken and
GetFederationToken (who may call each, and what GetFederationToken authorizes, is in
``broker.sts.authorization``). AssumeRole* live in their own modules.

Each action takes the authenticated ``Caller`` and the request's parameters and returns the
``<ActionResult>`` content plus the (secret-free) ``responseElements`` for the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
from broker.sts.credential_format import SESSION_PREFIX, new_access_key_id, new_token_id
from broker.sts.durations import DurationRequest, Operation, session_expiry
from broker.sts.managed_policies import read_policy_arns, resolve_session_policies
from broker.sts.mfa import MfaDevices
from broker.sts.parameters import optional_int, read_extras, require_name
from broker.sts.principals import PrincipalSource
from broker.sts.session_policies import SessionPolicySource
from broker.sts.session_token import SessionClaims, policy_digest, sign_session
from broker.sts.signing_keys import KeyRing
from broker.sts.wire import XmlValue

__all__ = [
    "ROLE_ACTIONS",
    "Outcome",
    "check_session_policy",
    "get_caller_identity",
    "get_federation_token",
    "get_session_token",
    "mint_credentials",
]

ROLE_ACTIONS = ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")


@dataclass(frozen=True)
class Outcome:
    """What an action answers (``result``) and what the audit log may keep (``audit``)."""

    result: Mapping[str, XmlValue]
    audit: Mapping[str, Any] | None
    session: SessionClaims | None = None
    identity: Mapping[str, Any] | None = None  # userIdentity for unsigned calls


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mint_credentials(
    ring: KeyRing, claims: SessionClaims
) -> tuple[dict[str, XmlValue], dict[str, Any]]:
    token, secret = sign_session(ring, claims)
    expiration = _iso(claims.expires_at)
    credentials: dict[str, XmlValue] = {
        "AccessKeyId": claims.access_key_id,
        "SecretAccessKey": secret,
        "SessionToken": token,
        "Expiration": expiration,
    }
    safe = {"accessKeyId": claims.access_key_id, "expiration": expiration}
    return credentials, {"credentials": safe, "sessionId": claims.session_id}


def get_caller_identity(caller: Caller) -> Outcome:
    """Who is calling: UserId, Account, Arn. Needs no permission, as in STS."""
    require_caller("GetCallerIdentity", caller)
    return Outcome({"UserId": caller.user_id, "Account": caller.account, "Arn": caller.arn}, None)


def _expiry(action: Operation, params: Mapping[str, str], now: datetime, *, root: bool) -> datetime:
    requested = optional_int(params, "DurationSeconds")
    return session_expiry(DurationRequest(action, requested, root=root), now)


def get_session_token(
    ring: KeyRing, caller: Caller, params: Mapping[str, str], mfa: MfaDevices | None = None
) -> Outcome:
    """Temporary credentials for a directory user's long-term key (up to 36 h); with
    ``SerialNumber`` and ``TokenCode`` the session carries MFA."""
    root = require_caller("GetSessionToken", caller) == "root"
    with_mfa = False
    if "SerialNumber" in params or "TokenCode" in params:
        if mfa is None:
            raise StsError(
                "MultiFactorAuthentication failed with invalid MFA one time pass code.",
                code="AccessDenied",
            )
        with_mfa = mfa.verify(caller.account, caller.user, params)
    now = datetime.now(UTC).replace(microsecond=0)
    claims = SessionClaims(
        kind="user-session",
        access_key_id=new_access_key_id(SESSION_PREFIX),
        session_id=new_token_id(),
        arn=caller.arn,
        account=caller.account,
        user=caller.user,
        issued_at=now,
        expires_at=_expiry("GetSessionToken", params, now, root=root),
        mfa=with_mfa,
    )
    credentials, audit = mint_credentials(ring, claims)
    return Outcome({"Credentials": credentials}, audit, claims)


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
    ring: KeyRing,
    caller: Caller,
    params: Mapping[str, str],
    policies: SessionPolicySource | None = None,
    source: PrincipalSource | None = None,
    *,
    source_ip: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """A federated-user session named ``Name``, as STS decides it: the caller's policies must
    allow ``sts:GetFederationToken`` (and ``sts:TagSession`` for ``Tags``); the session may do
    only what both the user's policies and the session policies passed allow (nothing
    without a session policy). Without a directory there are no policies to decide by, so
    the call is refused."""
    root = require_caller("GetFederationToken", caller) == "root"
    name = require_name(params, "Name", 2, 32)
    extras = read_extras(params)
    arns = read_policy_arns(params)
    now = now or datetime.now(UTC).replace(microsecond=0)
    expires = _expiry("GetFederationToken", params, now, root=root)
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
    credentials, audit = mint_credentials(ring, claims)
    federated = {"FederatedUserId": f"{caller.account}:{name}", "Arn": arn}
    result: dict[str, XmlValue] = {
        "Credentials": credentials,
        "FederatedUser": federated,
        "PackedPolicySize": extras.packed_percent,
    }
    return Outcome(result, {**audit, "federatedUser": federated}, claims)
