"""AssumeRole: the role's trust policy and the caller's own policies, evaluated by the engine.

As IAM decides it (IAM User Guide, "Cross-account policy evaluation logic"): the trust policy
must allow ``sts:AssumeRole`` for the caller; when it names the caller's account rather than
the caller, or the role is in another account, the caller's identity policies (within their
boundary, session policy and SCPs) must allow it too. Session tags need ``sts:TagSession``
and a new source identity ``sts:SetSourceIdentity``, each allowed the same way.

Chaining (a role session assuming a role) caps the session at 1 h, carries the caller's
transitive session tags (which the request may not override) and its source identity (which
may not change), as STS does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from broker.errors import StsError
from broker.policy import Policy, PolicySet, Request, evaluate, parse_policy
from broker.sts.callers import Caller
from broker.sts.durations import DurationRequest, session_expiry
from broker.sts.mfa import MfaDevices
from broker.sts.operations import Outcome, check_session_policy
from broker.sts.parameters import (
    SessionExtras,
    optional_int,
    read_extras,
    require_external_id,
    require_name,
)
from broker.sts.principals import PrincipalPolicies, PrincipalSource, parse_role_arn
from broker.sts.role_session import (
    RoleSession,
    mint_role_session,
    require_role_arn,
)
from broker.sts.session_policies import SessionPolicySource
from broker.sts.signing_keys import KeyRing

__all__ = ["assume_role"]


def _mfa(caller: Caller, params: Mapping[str, str], devices: MfaDevices | None) -> bool:
    """Whether this session has MFA: carried from the calling session, or proven now."""
    carried = bool(caller.session and caller.session.mfa)
    if "SerialNumber" not in params and "TokenCode" not in params:
        return carried
    if devices is None:
        raise StsError(
            "MultiFactorAuthentication failed with invalid MFA one time pass code.",
            code="AccessDenied",
        )
    return devices.verify(caller.account, caller.user, params) or carried


def _denied(caller: Caller, action: str, resource: str) -> StsError:
    return StsError(
        f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}",
        code="AccessDenied",
    )


def _caller_policies(
    caller: Caller, source: PrincipalSource, policies: SessionPolicySource
) -> tuple[PrincipalPolicies, Policy | None, str]:
    """The caller's identity side, its session policy, and its principal ARN for conditions."""
    session = caller.session
    if session is None:
        return source.user_policies(caller.account, caller.user), None, caller.arn
    session_policy = None
    if session.policy_digest:
        session_policy = parse_policy(policies.get(session.policy_digest), kind="session")
    if session.kind == "assumed-role" and session.role_arn:
        account, _path, name = parse_role_arn(session.role_arn)
        role = source.role(account, name)
        if role is None:
            raise StsError(f"The role {session.role_arn} no longer exists.", code="AccessDenied")
        return role.policies, session_policy, session.role_arn
    return source.user_policies(caller.account, caller.user), session_policy, caller.arn


def _context(
    caller: Caller,
    principal_arn: str,
    params: Mapping[str, str],
    extras: SessionExtras,
    tags: Mapping[str, str],
    source_identity: str | None,
    source_ip: str | None,
    now: datetime,
) -> dict[str, Any]:
    session = caller.session
    context: dict[str, Any] = {
        "aws:PrincipalArn": principal_arn,
        "aws:PrincipalAccount": caller.account,
        "aws:userid": caller.user_id,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(now.timestamp()),
        "aws:SecureTransport": False,
        "aws:MultiFactorAuthPresent": bool(session and session.mfa),
        "sts:RoleSessionName": params["RoleSessionName"],
    }
    if session is None:
        context["aws:username"] = caller.user
        context["aws:PrincipalType"] = "User"
    else:
        context["aws:PrincipalType"] = "AssumedRole" if session.role_arn else "FederatedUser"
        context["aws:TokenIssueTime"] = session.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        for key, value in session.tags.items():
            context[f"aws:PrincipalTag/{key}"] = value
    if source_ip:
        context["aws:SourceIp"] = source_ip
    if "ExternalId" in params:
        context["sts:ExternalId"] = params["ExternalId"]
    if source_identity:
        context["sts:SourceIdentity"] = source_identity
    if session and session.source_identity:
        context["aws:SourceIdentity"] = session.source_identity
    if tags:
        context["aws:TagKeys"] = list(tags)
        for key, value in tags.items():
            context[f"aws:RequestTag/{key}"] = value
    if extras.transitive_tag_keys:
        context["sts:TransitiveTagKeys"] = list(extras.transitive_tag_keys)
    return context


def _inherited(caller: Caller, extras: SessionExtras) -> tuple[dict[str, str], tuple[str, ...]]:
    """Tags and transitive keys after chaining: the caller's transitive tags win, unchanged."""
    session = caller.session
    carried = {}
    keys: tuple[str, ...] = ()
    if session is not None:
        keys = session.transitive_tag_keys
        carried = {k: v for k, v in session.tags.items() if k in keys}
    clash = [k for k in extras.tags if k.lower() in {c.lower() for c in carried}]
    if clash:
        raise StsError(
            f"One or more session tags conflict with transitive tags of the calling session: "
            f"{clash[0]}",
            code="InvalidParameterValue",
        )
    merged_keys = tuple(dict.fromkeys((*keys, *extras.transitive_tag_keys)))
    return {**carried, **extras.tags}, merged_keys


def _source_identity(caller: Caller, params: Mapping[str, str]) -> tuple[str | None, bool]:
    """The session's source identity and whether this request sets it anew."""
    inherited = caller.session.source_identity if caller.session else None
    requested = params.get("SourceIdentity")
    if requested is not None:
        require_name(params, "SourceIdentity", 2, 64)
        if inherited is not None and requested != inherited:
            raise StsError(
                "The source identity of a session cannot be changed once set.",
                code="AccessDenied",
            )
    return inherited or requested, requested is not None and inherited is None


def assume_role(
    ring: KeyRing,
    source: PrincipalSource,
    policies: SessionPolicySource,
    caller: Caller,
    params: Mapping[str, str],
    *,
    source_ip: str | None = None,
    now: datetime | None = None,
    mfa: MfaDevices | None = None,
) -> Outcome:
    """AssumeRole as STS answers it; ``StsError`` with STS's code when refused."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    require_role_arn(params)
    role_arn = params["RoleArn"]
    session_name = require_name(params, "RoleSessionName", 2, 64)
    require_external_id(params)
    with_mfa = _mfa(caller, params, mfa)
    extras = read_extras(params)
    tags, transitive = _inherited(caller, extras)
    source_identity, sets_source = _source_identity(caller, params)
    account, _path, name = parse_role_arn(role_arn)
    role = source.role(account, name)
    if role is None:
        raise _denied(caller, "sts:AssumeRole", role_arn)
    identity, caller_session_policy, principal_arn = _caller_policies(caller, source, policies)
    policy_set = PolicySet(
        identity=identity.identity,
        resource=(role.trust_policy,),
        boundary=identity.boundary,
        scp_hierarchy=identity.scp_hierarchy,
        session=caller_session_policy,
        management_account=identity.management_account,
    )
    context = _context(
        caller, principal_arn, params, extras, extras.tags, source_identity, source_ip, now
    )
    organization = source.organization_id(caller.account)
    if organization is not None:
        context["aws:PrincipalOrgID"] = organization
    context["aws:MultiFactorAuthPresent"] = with_mfa
    if with_mfa and caller.session is None:
        context["aws:MultiFactorAuthAge"] = 0
    actions = ["sts:AssumeRole"]
    actions += ["sts:TagSession"] if extras.tags else []
    actions += ["sts:SetSourceIdentity"] if sets_source else []
    for action in actions:
        request = Request(action, role.arn, caller.arn, caller.account, role.account, context)
        if not evaluate(policy_set, request, explain=False).allowed:
            raise _denied(caller, action, role.arn)
    chained = caller.session is not None and caller.session.kind == "assumed-role"
    expires = session_expiry(
        DurationRequest(
            "AssumeRole",
            optional_int(params, "DurationSeconds"),
            role_max=role.max_session_duration,
            chained=chained,
        ),
        now,
    )
    check_session_policy(extras.policy, policies)
    claims, result, audit = mint_role_session(
        ring,
        RoleSession(
            role,
            session_name,
            caller.user,
            now,
            expires,
            policy=extras.policy,
            tags=tags,
            transitive_tag_keys=transitive,
            source_identity=source_identity,
            chained=chained,
            mfa=with_mfa,
        ),
    )
    result["PackedPolicySize"] = extras.packed_percent if (extras.policy or tags) else None
    result["SourceIdentity"] = source_identity
    return Outcome(result, audit, claims)
