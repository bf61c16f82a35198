"""``POST /authorize``: the decision of the signed caller's effective permissions.

Internal services use the broker as their authorizer: they forward who called (a SigV4
signature by credentials the broker minted) and what was asked (action, resource, extra
context, any resource policies). The answer is the engine's decision with its explanation,
over identity ∩ boundary ∩ session policy ∩ SCPs, plus the resource policies given.

Context keys the broker knows from the verified session (``aws:PrincipalArn``,
``aws:PrincipalTag/*``, ``aws:SourceIdentity``, ``aws:MultiFactorAuthPresent`` ...) always
come from the session; the request body cannot set or override them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from broker.errors import PolicyError, StsError
from broker.policy import Policy, PolicySet, Request, evaluate, parse_policy
from broker.sts.authorization import caller_side, principal_context
from broker.sts.callers import Caller
from broker.sts.principals import PrincipalPolicies, PrincipalSource
from broker.sts.session_policies import SessionPolicySource

__all__ = ["AuthorizeQuery", "authorize", "parse_query"]

_MAX_BODY = 64 * 1024
_SESSION_KEYS = (
    "aws:principalarn",
    "aws:principalaccount",
    "aws:principaltype",
    "aws:principaltag/",
    "aws:userid",
    "aws:username",
    "aws:sourceidentity",
    "aws:tokenissuetime",
    "aws:multifactorauth",
    "aws:federatedprovider",
    "aws:sourceip",
    "aws:currenttime",
    "aws:epochtime",
    "aws:principalorg",  # PrincipalOrgID and PrincipalOrgPaths: the directory says
    "aws:principalisawsservice",
    "aws:principalservicename",
)


@dataclass(frozen=True)
class AuthorizeQuery:
    """What the calling service asks about."""

    action: str
    resource: str
    resource_account: str | None
    context: Mapping[str, Any]
    resource_policies: tuple[Policy, ...]


def _bad(message: str) -> StsError:
    return StsError(message, code="ValidationError")


def parse_query(body: bytes) -> AuthorizeQuery:
    """Read the JSON body; ``ValidationError`` / ``MalformedPolicyDocument`` when wrong."""
    if len(body) > _MAX_BODY:
        raise _bad(f"The request body is larger than {_MAX_BODY} bytes.")
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _bad("The request body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise _bad("The request body must be a JSON object.")
    action, resource = data.get("action"), data.get("resource", "*")
    if not isinstance(action, str) or not isinstance(resource, str):
        raise _bad("'action' (a string) is required; 'resource' must be a string.")
    context = data.get("context", {})
    if not isinstance(context, dict):
        raise _bad("'context' must be an object of condition keys.")
    policies = []
    for index, doc in enumerate(data.get("resourcePolicies", [])):
        try:
            policies.append(parse_policy(doc, kind="resource", name=f"resourcePolicies[{index}]"))
        except PolicyError as exc:
            raise StsError(str(exc), code="MalformedPolicyDocument") from None
    account = data.get("resourceAccount")
    return AuthorizeQuery(
        action,
        resource,
        account if isinstance(account, str) else None,
        {k: v for k, v in context.items() if not k.lower().startswith(_SESSION_KEYS)},
        tuple(policies),
    )


def _caller_side(
    caller: Caller,
    source: PrincipalSource,
    policies: SessionPolicySource,
    now: datetime,
    source_ip: str | None,
) -> tuple[PrincipalPolicies, Policy | None, dict[str, Any]]:
    """The same caller side every STS decision uses (``broker.sts.authorization``)."""
    side = caller_side(caller, source, policies)
    context = principal_context(caller, side.principal_arn, now, source, source_ip)
    return side.policies, side.session_policy, context


def authorize(
    caller: Caller,
    query: AuthorizeQuery,
    source: PrincipalSource,
    policies: SessionPolicySource,
    *,
    source_ip: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The decision, explained, for ``caller`` doing ``query``."""
    now = now or datetime.now(UTC)
    side, session_policy, context = _caller_side(caller, source, policies, now, source_ip)
    if caller.session and caller.session.kind == "federated-user" and session_policy is None:
        return {
            "principal": caller.arn,
            "allowed": False,
            "decision": "ImplicitDeny",
            "explanation": [
                {
                    "layer": "session",
                    "reason": "a federated user with no session policy has no "
                    "permissions (AWS: GetFederationToken without Policy)",
                }
            ],
        }
    request = Request(
        action=query.action,
        resource=query.resource,
        principal_arn=caller.arn,
        principal_account=caller.account,
        resource_account=query.resource_account or caller.account,
        context={**query.context, **context},
    )
    policy_set = PolicySet(
        identity=side.identity,
        resource=query.resource_policies,
        boundary=side.boundary,
        scp_hierarchy=side.scp_hierarchy,
        session=session_policy,
        management_account=side.management_account,
    )
    decision = evaluate(policy_set, request, explain=True)
    return {"principal": caller.arn, "allowed": decision.allowed, **decision.to_json()}
