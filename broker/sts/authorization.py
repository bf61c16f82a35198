"""The one authorization seam of the STS: who may call which operation, and what each decides.

Every STS operation is described here once (``RULES``): which kinds of credentials may call it
(the STS API reference's "Permissions" and "Session duration" paragraphs), which IAM actions
it authorizes through ``broker.policy.evaluate``, against which policies, and what the
credentials it returns may do. The operations call ``require_caller`` first and
``decide_actions`` for their actions; ``docs/architecture.md`` shows the tables rendered by
``caller_matrix_markdown`` and ``rules_markdown`` (a test keeps both in step with this file).

Kinds of credentials (``caller_kind``):

* ``iam-user``: a directory user's long-term access key (``BRKU…``);
* ``root``: an account's root user (``arn:aws:iam::ACCT:root``); the broker issues no root
  keys, but a root caller is still decided by these rules, never by default;
* ``user-session``: GetSessionToken credentials;
* ``role-session``: AssumeRole* credentials;
* ``federated-user``: GetFederationToken credentials.

AssumeRoleWithWebIdentity and AssumeRoleWithSAML are not signed: the ID token or the SAML
response is the caller, and whatever credentials a client holds play no part.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from broker.errors import StsError
from broker.policy import Policy, PolicySet, Request, evaluate, parse_policy
from broker.sts.callers import Caller
from broker.sts.principals import PrincipalPolicies, PrincipalSource, parse_role_arn
from broker.sts.session_policies import SessionPolicySource

__all__ = [
    "CALLER_KINDS",
    "RULES",
    "CallerKind",
    "CallerSide",
    "OperationRule",
    "caller_kind",
    "caller_matrix_markdown",
    "caller_side",
    "decide_actions",
    "principal_context",
    "require_caller",
    "rule",
    "rules_markdown",
]

CallerKind = Literal["iam-user", "root", "user-session", "role-session", "federated-user"]
CALLER_KINDS: tuple[CallerKind, ...] = (
    "iam-user",
    "root",
    "user-session",
    "role-session",
    "federated-user",
)
_KIND_NAMES: Mapping[CallerKind, str] = {
    "iam-user": "an IAM user's long-term access key",
    "root": "the account's root user",
    "user-session": "GetSessionToken session credentials",
    "role-session": "role session credentials",
    "federated-user": "federated user session credentials",
}


@dataclass(frozen=True)
class OperationRule:
    """What one STS operation decides, and for whom.

    Args:
        operation: the Query API action.
        callers: the credential kinds that may call it; ``None`` for the unsigned operations.
        actions: the IAM actions authorized, each with when it applies.
        policies: the policies the engine evaluates for those actions.
        session: what the returned credentials may do.
    """

    operation: str
    callers: frozenset[CallerKind] | None
    actions: tuple[str, ...]
    policies: str
    session: str


_ALL: frozenset[CallerKind] = frozenset(CALLER_KINDS)
_CALLER_SIDE = "caller's identity policies, permissions boundary, session policy, SCPs"

RULES: tuple[OperationRule, ...] = (
    OperationRule(
        "GetCallerIdentity",
        _ALL,
        (),
        "none: needs no permission, an explicit Deny does not stop it",
        "no credentials returned",
    ),
    OperationRule(
        "GetSessionToken",
        frozenset({"iam-user", "root"}),
        (),
        "none: an authentication operation, not controlled by policies",
        "the user's own permissions (root: at most 1 h)",
    ),
    OperationRule(
        "GetFederationToken",
        frozenset({"iam-user", "root"}),
        (
            "sts:GetFederationToken on the federated-user ARN",
            "sts:TagSession with Tags",
        ),
        _CALLER_SIDE,
        "the user's permissions ∩ the session policies (Policy, PolicyArns); none without one",
    ),
    OperationRule(
        "AssumeRole",
        frozenset({"iam-user", "user-session", "role-session"}),
        (
            "sts:AssumeRole on the role",
            "sts:TagSession with Tags",
            "sts:SetSourceIdentity with a new SourceIdentity",
        ),
        _CALLER_SIDE + "; the role's trust policy as the resource policy",
        "the role's permissions ∩ boundary ∩ SCPs ∩ the session policies (Policy, PolicyArns); "
        "chained: at most 1 h",
    ),
    OperationRule(
        "AssumeRoleWithWebIdentity",
        None,
        ("sts:AssumeRoleWithWebIdentity on the role",),
        "the role's trust policy alone (the caller is the OIDC provider)",
        "the role's permissions ∩ boundary ∩ SCPs ∩ the session policies (Policy, PolicyArns)",
    ),
    OperationRule(
        "AssumeRoleWithSAML",
        None,
        (
            "sts:AssumeRoleWithSAML on the role",
            "sts:TagSession with PrincipalTag attributes",
            "sts:SetSourceIdentity with a SourceIdentity attribute",
        ),
        "the role's trust policy alone (the caller is the SAML provider)",
        "the role's permissions ∩ boundary ∩ SCPs ∩ the session policies (Policy, PolicyArns)",
    ),
)
_BY_NAME = {r.operation: r for r in RULES}
_ROOT_IDENTITY = parse_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    kind="identity",
    name="root user",
)


def rule(operation: str) -> OperationRule:
    """The rule of ``operation`` (every operation the Query API answers has one)."""
    return _BY_NAME[operation]


def caller_kind(caller: Caller) -> CallerKind:
    """Which kind of credentials signed the request."""
    session = caller.session
    if session is None:
        return "root" if caller.arn.endswith(":root") else "iam-user"
    if session.kind == "assumed-role":
        return "role-session"
    if session.kind == "federated-user":
        return "federated-user"
    return "user-session"


def require_caller(operation: str, caller: Caller) -> CallerKind:
    """``AccessDenied`` unless ``caller``'s kind of credentials may call ``operation``."""
    kind = caller_kind(caller)
    allowed = rule(operation).callers
    if allowed is not None and kind not in allowed:
        if kind in ("user-session", "role-session") and operation.startswith("Get"):
            message = f"Cannot call {operation} with session credentials"
        else:
            message = f"{caller.arn} cannot call {operation} with {_KIND_NAMES[kind]}"
        raise StsError(message, code="AccessDenied")
    return kind


@dataclass(frozen=True)
class CallerSide:
    """The caller's side of a decision: its policies, session policy and principal ARN."""

    policies: PrincipalPolicies
    session_policy: Policy | None
    principal_arn: str


def caller_side(
    caller: Caller, source: PrincipalSource, policies: SessionPolicySource
) -> CallerSide:
    """The policies that bound what ``caller`` may do: a role session's role, otherwise the
    directory user's; plus the session's own session policies (inline and managed)."""
    from broker.sts.managed_policies import load_session_policy

    session = caller.session
    if session is None and caller_kind(caller) == "root":
        # the root user is not bound by identity policies; its account's SCPs still bind it
        scps = source.user_policies(caller.account, caller.user)
        root = PrincipalPolicies(
            (_ROOT_IDENTITY,), None, scps.scp_hierarchy, scps.management_account
        )
        return CallerSide(root, None, caller.arn)
    if session is None:
        return CallerSide(source.user_policies(caller.account, caller.user), None, caller.arn)
    session_policy = (
        load_session_policy(policies, session.policy_digest) if session.policy_digest else None
    )
    if session.kind == "assumed-role" and session.role_arn:
        account, _path, name = parse_role_arn(session.role_arn)
        role = source.role(account, name)
        if role is None:
            raise StsError(f"The role {session.role_arn} no longer exists.", code="AccessDenied")
        return CallerSide(role.policies, session_policy, session.role_arn)
    return CallerSide(source.user_policies(caller.account, caller.user), session_policy, caller.arn)


def principal_context(
    caller: Caller,
    principal_arn: str,
    now: datetime,
    source: PrincipalSource,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """The condition keys that describe the verified caller (never taken from the request);
    ``aws:PrincipalOrgID`` when the directory puts the caller's account in an organization."""
    organization = source.organization_id(caller.account)
    session = caller.session
    context: dict[str, Any] = {
        "aws:PrincipalArn": principal_arn,
        "aws:PrincipalAccount": caller.account,
        "aws:userid": caller.user_id,
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": int(now.timestamp()),
        "aws:SecureTransport": False,
        "aws:MultiFactorAuthPresent": bool(session and session.mfa),
    }
    if session is None:
        context["aws:username"] = caller.user
        context["aws:PrincipalType"] = "Account" if caller_kind(caller) == "root" else "User"
    else:
        context["aws:PrincipalType"] = {
            "assumed-role": "AssumedRole",
            "federated-user": "FederatedUser",
            "user-session": "User",
        }[session.kind]
        context["aws:TokenIssueTime"] = session.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        for key, value in session.tags.items():
            context[f"aws:PrincipalTag/{key}"] = value
        if session.source_identity:
            context["aws:SourceIdentity"] = session.source_identity
    if source_ip:
        context["aws:SourceIp"] = source_ip
    if organization is not None:
        context["aws:PrincipalOrgID"] = organization
    return context


def request_tag_context(tags: Mapping[str, str]) -> dict[str, Any]:
    """``aws:TagKeys`` and ``aws:RequestTag/*`` for the session tags a request passes."""
    if not tags:
        return {}
    context: dict[str, Any] = {"aws:TagKeys": list(tags)}
    for key, value in tags.items():
        context[f"aws:RequestTag/{key}"] = value
    return context


def decide_actions(
    caller: Caller,
    policy_set: PolicySet,
    actions: Iterable[str],
    resource: str,
    resource_account: str,
    context: Mapping[str, Any],
) -> None:
    """Each action through the engine; ``AccessDenied`` naming the first one refused."""
    for action in actions:
        request = Request(action, resource, caller.arn, caller.account, resource_account, context)
        if not evaluate(policy_set, request, explain=False).allowed:
            raise StsError(
                f"User: {caller.arn} is not authorized to perform: {action} on resource: "
                f"{resource}",
                code="AccessDenied",
            )


def caller_matrix_markdown() -> str:
    """The credential-kind × operation table, as ``docs/architecture.md`` shows it."""
    head = "| credentials | " + " | ".join(r.operation for r in RULES) + " |"
    lines = [head, "|---" * (len(RULES) + 1) + "|"]
    for kind in CALLER_KINDS:
        cells = [
            "any (not signed)" if r.callers is None else ("yes" if kind in r.callers else "no")
            for r in RULES
        ]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rules_markdown() -> str:
    """The per-operation authorization table, as ``docs/architecture.md`` shows it."""
    lines = [
        "| operation | actions authorized | policies that decide | the session may do |",
        "|---|---|---|---|",
    ]
    for r in RULES:
        actions = "; ".join(r.actions) or "none"
        lines.append(f"| {r.operation} | {actions} | {r.policies} | {r.session} |")
    return "\n".join(lines)
