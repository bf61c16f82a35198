"""The IAM policy language: parse and validate, match, conditions, evaluate, explain.

Modules, each named after the part of the IAM User Guide it implements: ``grammar`` (the JSON
element reference), ``lint`` (Access Analyzer-style warnings), ``matching`` (Action/Resource
wildcards), ``variables`` (policy variables), ``conditions`` (condition operators),
``principals`` (Principal/NotPrincipal), ``evaluation`` (the evaluation logic), ``explain``.

Trust and key policies (details in ``request``): put the role's trust policy (parsed with
``kind="trust"``) or the KMS key policy (``kind="key"``) in ``PolicySet.resource``, make the
role or key ARN the ``Request.resource`` and its account the ``resource_account``, and give the
caller's own policies as ``identity``/``boundary``/``session``/``scp_hierarchy``. Such a policy
must allow the caller itself (or name its account, which then needs the caller's identity
policies to allow too); cross-account, both sides must allow. A web-identity or SAML caller is
the provider itself (``principal_arn`` = the provider's name or ARN): only the trust policy
decides, with its conditions over the claims in ``context``.

Typical use::

    compiled = compile_policy_set(PolicySet(identity=[parse_policy(doc)]))
    decision = compiled.evaluate(Request(action, resource, principal_arn, account, account, ctx))

Imports nothing of ours but ``broker.errors``, and nothing heavy.
"""

from broker.policy.evaluation import CompiledPolicySet, compile_policy_set, evaluate
from broker.policy.findings import Finding, PolicyKind, PolicyValidationError
from broker.policy.grammar import Policy, parse_policy, validate_policy
from broker.policy.request import Decision, PolicySet, Request
from broker.policy.statements import Statement

__all__ = [
    "CompiledPolicySet",
    "Decision",
    "Finding",
    "Policy",
    "PolicyKind",
    "PolicySet",
    "PolicyValidationError",
    "Request",
    "Statement",
    "compile_policy_set",
    "evaluate",
    "parse_policy",
    "validate_policy",
]
