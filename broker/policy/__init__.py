"""The IAM policy language: parse and validate, match, conditions, evaluate, explain.

Modules, each named after the part of the IAM User Guide it implements: ``grammar`` (the JSON
element reference), ``lint`` (Access Analyzer-style warnings), ``matching`` (Action/Resource
wildcards), ``variables`` (policy variables), ``conditions`` (condition operators),
``principals`` (Principal/NotPrincipal), ``evaluation`` (the evaluation logic), ``explain``.
``request`` documents how trust and key policies are expressed as a ``PolicySet``.

Imports nothing of ours but ``broker.errors``, and nothing heavy.
"""

from broker.policy.evaluation import CompiledPolicySet, compile_policy_set, evaluate
from broker.policy.findings import Finding, PolicyKind, PolicyValidationError
from broker.policy.grammar import Policy, Statement, parse_policy, validate_policy
from broker.policy.request import Decision, PolicySet, Request

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
