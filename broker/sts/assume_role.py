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

from datetime import datetime
from typing import Any

from broker.errors import StsError
from broker.policy import PolicySet
from broker.sts.authorization import (
    caller_side,
    decide_actions,
    principal_context,
    request_tag_context,
    require_caller,
)
from broker.sts.callers import Caller
from broker.sts.context import StsContext
from broker.sts.durations import DurationRequest, session_expiry
from broker.sts.managed_policies import check_policy_arns, resolve_session_policies
from broker.sts.mfa import MfaDevices
from broker.sts.parameters import SessionExtras, check_external_id, check_extras, check_name
from broker.sts.principals import PrincipalSource, parse_role_arn
from broker.sts.requests import AssumeRoleRequest
from broker.sts.results import AssumeRoleResult, Outcome
from broker.sts.role_session import RoleSession, mint_role_session

__all__ = ["assume_role"]


def _mfa(caller: Caller, request: AssumeRoleRequest, devices: MfaDevices | None) -> bool:
    """Whether this session has MFA: carried from the calling session, or proven now."""
    carried = bool(caller.session and caller.session.mfa)
    if request.serial_number is None and request.token_code is None:
        return carried
    if devices is None:
        raise StsError(
            "MultiFactorAuthentication failed with invalid MFA one time pass code.",
            code="AccessDenied",
        )
    verified = devices.verify(
        caller.account, caller.user, request.serial_number, request.token_code
    )
    return verified or carried


def _denied(caller: Caller, action: str, resource: str) -> StsError:
    return StsError(
        f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}",
        code="AccessDenied",
    )


def _context(
    caller: Caller,
    principal_arn: str,
    request: AssumeRoleRequest,
    extras: SessionExtras,
    source_identity: str | None,
    source_ip: str | None,
    source: PrincipalSource,
    now: datetime,
) -> dict[str, Any]:
    context = principal_context(caller, principal_arn, now, source, source_ip)
    context["sts:RoleSessionName"] = request.role_session_name
    if request.external_id is not None:
        context["sts:ExternalId"] = request.external_id
    if source_identity:
        context["sts:SourceIdentity"] = source_identity
    context.update(request_tag_context(extras.tags))
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


def _source_identity(caller: Caller, requested: str | None) -> tuple[str | None, bool]:
    """The session's source identity and whether this request sets it anew."""
    inherited = caller.session.source_identity if caller.session else None
    if requested is not None:
        check_name(requested, "SourceIdentity", 2, 64)
        if inherited is not None and requested != inherited:
            raise StsError(
                "The source identity of a session cannot be changed once set.",
                code="AccessDenied",
            )
    return inherited or requested, requested is not None and inherited is None


def assume_role(
    deps: StsContext,
    caller: Caller,
    request: AssumeRoleRequest,
    *,
    source_ip: str | None = None,
) -> Outcome[AssumeRoleResult]:
    """AssumeRole as STS answers it; ``StsError`` with STS's code when refused."""
    require_caller("AssumeRole", caller)
    source, policies = deps.directory("AssumeRole")
    now = deps.now()
    role_arn = request.role_arn
    session_name = check_name(request.role_session_name, "RoleSessionName", 2, 64)
    check_external_id(request.external_id)
    with_mfa = _mfa(caller, request, deps.mfa)
    extras = check_extras(
        request.policy, request.policy_arns, request.tags, request.transitive_tag_keys
    )
    arns = check_policy_arns(request.policy_arns)
    tags, transitive = _inherited(caller, extras)
    source_identity, sets_source = _source_identity(caller, request.source_identity)
    account, _path, name = parse_role_arn(role_arn)
    role = source.role(account, name)
    if role is None:
        raise _denied(caller, "sts:AssumeRole", role_arn)
    side = caller_side(caller, source, policies)
    policy_set = PolicySet(
        identity=side.policies.identity,
        resource=(role.trust_policy,),
        boundary=side.policies.boundary,
        scp_hierarchy=side.policies.scp_hierarchy,
        session=side.session_policy,
        management_account=side.policies.management_account,
    )
    context = _context(
        caller,
        side.principal_arn,
        request,
        extras,
        source_identity,
        source_ip,
        source,
        now,
    )
    context["aws:MultiFactorAuthPresent"] = with_mfa
    if with_mfa and caller.session is None:
        context["aws:MultiFactorAuthAge"] = 0
    actions = ["sts:AssumeRole"]
    actions += ["sts:TagSession"] if extras.tags else []
    actions += ["sts:SetSourceIdentity"] if sets_source else []
    decide_actions(caller, policy_set, actions, role.arn, role.account, context)
    chained = caller.session is not None and caller.session.kind == "assumed-role"
    expires = session_expiry(
        DurationRequest(
            "AssumeRole",
            request.duration_seconds,
            role_max=role.max_session_duration,
            chained=chained,
        ),
        now,
    )
    session_policies = resolve_session_policies(extras.policy, arns, role.account, source, policies)
    claims, credentials, assumed = mint_role_session(
        deps.ring,
        RoleSession(
            role,
            session_name,
            caller.user,
            now,
            expires,
            policy=session_policies.text,
            tags=tags,
            transitive_tag_keys=transitive,
            source_identity=source_identity,
            chained=chained,
            mfa=with_mfa,
        ),
    )
    packed = session_policies.present or tags
    result = AssumeRoleResult(
        credentials,
        assumed,
        packed_policy_size=extras.packed_percent if packed else None,
        source_identity=source_identity,
    )
    return Outcome("AssumeRole", result, claims)
