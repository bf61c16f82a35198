"""The values evaluation works on: a request, the policies that apply to it, and a decision.

How the special cases are expressed (IAM User Guide, "Policy evaluation logic"):

* **Role trust policy** (``sts:AssumeRole*``): put the trust policy (``kind="trust"``) in
  ``PolicySet.resource``; ``Request.resource`` is the role's ARN, ``resource_account`` its
  account; the caller's own policies go in ``identity`` (and ``boundary``, ``session``,
  ``scp_hierarchy``). A trust policy must name the caller itself (its ARN, its role, or ``*``);
  naming the caller's *account* delegates to the caller's identity policies, which must then
  allow ``sts:AssumeRole`` too. Cross-account, both sides must allow, always. A web-identity or
  SAML caller is the provider (``principal_arn`` = ``cognito-identity.amazonaws.com``, an
  ``oidc-provider``/``saml-provider`` ARN, ...): only the trust policy decides.
* **KMS key policy**: the key policy (``kind="key"``) goes in ``resource``; the same "must
  name the caller, or the account to enable IAM policies" rule applies.
* **Role sessions**: ``principal_arn`` is the ``assumed-role`` session ARN; put the role ARN
  (with its path) in ``context["aws:PrincipalArn"]`` as AWS does, or it is derived without a
  path. **Federated users** (GetFederationToken): ``federated-user`` ARN; with no session
  policy they have no permissions, as AWS documents.
* **Management account**: set ``PolicySet.management_account`` when the caller's account is
  the organization's management account; SCPs then do not apply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from broker.policy.grammar import Policy

__all__ = ["ContextInput", "Decision", "DecisionName", "PolicySet", "Request"]

ContextInput = Mapping[str, str | bool | int | Sequence[str]]
DecisionName = Literal["Allow", "ImplicitDeny", "ExplicitDeny"]


@dataclass(frozen=True, slots=True)
class Request:
    """One request: who (``principal_arn`` in ``principal_account``), does what to what
    (``action`` on ``resource`` in ``resource_account``), with which request context.

    ``context`` is the whole request context; keys are case-insensitive, multi-valued keys are
    sequences. Nothing is added to it implicitly. ``federated_by``: for a federated-user
    session, the ARN of the IAM user that called GetFederationToken (a resource policy naming
    that user grants to the session, bounded by the boundary and session policy).
    """

    action: str
    resource: str
    principal_arn: str
    principal_account: str
    resource_account: str
    context: ContextInput = field(default_factory=dict)
    federated_by: str | None = None


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Every policy that applies to a request, by type.

    ``identity``: the user's policies (its own and its groups') or the role's.
    ``resource``: policies on the resource (resource, trust or key kinds).
    ``boundary``: the principal's permissions boundary. ``session``: the session policy of a
    role session or federated user (several passed policies are one intersection: give their
    common document). ``scp_hierarchy``: the SCPs of the caller's account per level, root
    first, then each OU, then the account; each level must allow.
    ``management_account``: the caller's account is the organization's management account.
    ``rcp_hierarchy``: the resource control policies of the *resource's* account per level (root,
    OUs, account); each level must allow. Give them only for resources of services RCPs cover
    (S3, STS, KMS customer managed keys, SQS, Secrets Manager, ... per the Organizations guide);
    they bind every caller, external and anonymous ones included, except service-linked roles.
    ``resource_management_account``: the resource is in the management account (no RCPs apply).
    """

    identity: Sequence[Policy] = ()
    resource: Sequence[Policy] = ()
    boundary: Policy | None = None
    scp_hierarchy: Sequence[Sequence[Policy]] = ()
    session: Policy | None = None
    management_account: bool = False
    rcp_hierarchy: Sequence[Sequence[Policy]] = ()
    resource_management_account: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """The result: ``decision``, ``allowed`` and, per layer, why (JSON-ready; empty when
    evaluated with ``explain=False``)."""

    decision: DecisionName
    allowed: bool
    explanation: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"decision": self.decision, "explanation": self.explanation}
