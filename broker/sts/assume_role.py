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
from broker.policy import PolicySet
from broker.sts.authorization import (
    caller_side,
    decide_actions,
    principal_context,
    request_tag_context,
    require_caller,
)
from broker.sts.callers import Caller
from broker.sts.durations import DurationRequest, session_expiry
from broker.sts.managed_policies import read_policy_arns, resolve_session_policies
from broker.sts.mfa import MfaDevices
from broker.sts.operations import Outcome
from broker.sts.parameters import (
    SessionExtras,
    optional_int,
    read_extras,
    require_external_id,
    require_name,
)
from broker.sts.principals import PrincipalSource, parse_role_arn
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


def _context(
    caller: Caller,
    principal_arn: str,
    params: Mapping[str, str],
    extras: SessionExtras,
    source_identity: str | None,
    source_ip: str | None,
    source: PrincipalSource,
    now: datetime,
) -> dict[str, Any]:
    context = principal_context(caller, principal_arn, now, source, source_ip)
    context["sts:RoleSessionName"] = params["RoleSessionName"]
    if "ExternalId" in params:
        context["sts:ExternalId"] = params["ExternalId"]
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
    require_caller("AssumeRole", caller)
    now = now or datetime.now(UTC).replace(microsecond=0)
    require_role_arn(params)
    role_arn = params["RoleArn"]
    session_name = require_name(params, "RoleSessionName", 2, 64)
    require_external_id(params)
    with_mfa = _mfa(caller, params, mfa)
    extras = read_extras(params)
    arns = read_policy_arns(params)
    tags, transitive = _inherited(caller, extras)
    source_identity, sets_source = _source_identity(caller, params)
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
        params,
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
            optional_int(params, "DurationSeconds"),
            role_max=role.max_session_duration,
            chained=chained,
        ),
        now,
    )
    session_policies = resolve_session_policies(extras.policy, arns, role.account, source, policies)
    claims, result, audit = mint_role_session(
        ring,
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
    result["PackedPolicySize"] = extras.packed_percent if packed else None
    result["SourceIdentity"] = source_identity
    return Outcome(result, audit, claims)
