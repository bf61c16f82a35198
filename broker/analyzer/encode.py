"""Policies as z3 formulas over a ``SymbolicRequest``, statement by statement, mirroring
``broker.policy`` (matching, conditions, principals) rule for rule.

``decision(policy, request)`` is true exactly when the policy, standing alone as the resource
side, lets a caller from another account (or an external principal) in: some Allow statement
applies and no Deny statement does. That is the whole decision for such callers once their
own identity policies allow (which an outsider controls): IAM User Guide, "Cross-account policy
evaluation logic".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

import z3

from broker.analyzer.globs import glob, literal
from broker.analyzer.support import encodable
from broker.analyzer.symbolic import IpKey, StrKey, SymbolicRequest
from broker.policy import Policy, Statement
from broker.policy.conditions import ConditionTest
from broker.policy.principals import PrincipalSpec

__all__ = ["condition_holds", "decision", "is_one_of", "statement_applies"]

_ARN_FAMILY = frozenset({"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"})
_IP = frozenset({"IpAddress", "NotIpAddress"})
_LIKE = frozenset({"StringLike", "StringNotLike"})
_FOLD = frozenset({"StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "Bool"})


def _or(items: Sequence[z3.BoolRef]) -> z3.BoolRef:
    return z3.Or(list(items)) if items else z3.BoolVal(False)


def is_one_of(term: z3.SeqRef, values: Iterable[str]) -> z3.BoolRef:
    """``term`` equals one of ``values``, as regex membership: z3's sequence solver handles a
    negated membership far faster than a string disequality."""
    wanted = sorted(set(values))
    if not wanted:
        return z3.BoolVal(False)
    regexes = [z3.Re(v) for v in wanted]
    return z3.InRe(term, regexes[0] if len(regexes) == 1 else z3.Union(*regexes))


def _any_of(values: Sequence[str], term: z3.SeqRef, *, arn: bool, fold: bool) -> z3.BoolRef:
    return _or([z3.InRe(term, glob(v, arn=arn, ignore_case=fold)) for v in values])


def _equals_any(values: Sequence[str], term: z3.SeqRef, *, fold: bool) -> z3.BoolRef:
    if not fold:
        return is_one_of(term, values)
    return _or([z3.InRe(term, literal(v, ignore_case=True)) for v in values])


def _in_network(key: IpKey, text: str) -> z3.BoolRef:
    network = ipaddress.ip_network(text.strip(), strict=False)
    width = network.max_prefixlen
    bits = key.v6_bits if width == 128 else key.v4_bits
    same_version = key.v6 if width == 128 else z3.Not(key.v6)
    if network.prefixlen == 0:
        return same_version
    low = width - network.prefixlen
    top = z3.Extract(width - 1, low, bits)
    wanted = z3.BitVecVal(int(network.network_address) >> low, network.prefixlen)
    return z3.And(same_version, top == wanted)


def condition_holds(test: ConditionTest, request: SymbolicRequest) -> z3.BoolRef:
    """``ConditionTest.holds`` for a single-valued key, as a formula. A condition the encoding
    does not cover (``support``) is a free unknown: a model is then only a candidate, which the
    engine confirms or refutes, and the answer is never "no access"."""
    unknown = z3.Bool(f"{request.prefix}.unknown[{test.operator} {test.key} {test.values}]")
    if not encodable(test):
        return unknown
    key = request.key(test.key)
    if test.base != "Null" and isinstance(key, IpKey) != (test.base in _IP):
        return unknown
    if test.base == "Null":
        return z3.Or(
            [z3.Not(key.present) if v.lower() == "true" else key.present for v in test.values]
        )
    absent = z3.BoolVal(test.if_exists or test.negated)
    if isinstance(key, IpKey):
        matched = _or([_in_network(key, v) for v in test.values])
        present = z3.If(key.malformed, z3.BoolVal(False), matched != z3.BoolVal(test.negated))
        return z3.If(key.present, present, absent)
    assert isinstance(key, StrKey)
    if any("${" in v for v in test.values):
        return unknown
    if test.base in _ARN_FAMILY or test.base in _LIKE:
        matched = _any_of(test.values, key.value, arn=test.base in _ARN_FAMILY, fold=False)
    else:
        matched = _equals_any(test.values, key.value, fold=test.base in _FOLD)
    if test.negated:
        matched = z3.Not(matched)
    return z3.If(key.present, matched, absent)


def _names(spec: PrincipalSpec, request: SymbolicRequest) -> z3.BoolRef:
    """``Caller.grant_kind(spec) is not None``."""
    if spec.wildcard:
        return z3.BoolVal(True)
    if not request.iam:
        return z3.BoolVal(request.shape.name in spec.external)
    options = [is_one_of(request.arn, spec.arns), is_one_of(request.account, spec.accounts)]
    if request.role_arn is not None:
        options.append(is_one_of(request.role_arn, spec.arns))
    return _or(options)


def _lists_all(spec: PrincipalSpec, request: SymbolicRequest) -> z3.BoolRef:
    """``Caller.all_listed(spec)``: NotPrincipal's exemption."""
    if spec.wildcard:
        return z3.BoolVal(True)
    if not request.iam:
        return z3.BoolVal(request.shape.name in spec.external)
    parts = [is_one_of(request.account, spec.accounts), is_one_of(request.arn, spec.arns)]
    if request.role_arn is not None:
        parts.append(is_one_of(request.role_arn, spec.arns))
    return z3.And(parts)


def statement_applies(statement: Statement, request: SymbolicRequest) -> z3.BoolRef:
    """Whether ``statement`` applies to the request (its Effect aside); no boundary applies."""
    parts: list[z3.BoolRef] = []
    actions = _any_of(statement.action_values, request.action, arn=False, fold=True)
    parts.append(z3.Not(actions) if statement.not_action else actions)
    if statement.resources is not None and statement.resources.templates:
        parts.append(z3.Bool(f"{request.prefix}.unknown[resource {statement.resource_values}]"))
    elif statement.resources is not None:
        resources = _any_of(statement.resource_values, request.resource, arn=True, fold=False)
        parts.append(z3.Not(resources) if statement.not_resource else resources)
    spec = statement.principal
    if spec is not None:
        if statement.not_principal:
            parts.append(z3.Not(_lists_all(spec, request)))
        else:
            parts.append(_names(spec, request))
    parts += [condition_holds(test, request) for test in statement.conditions]
    return z3.And(parts)


def decision(policy: Policy, request: SymbolicRequest) -> z3.BoolRef:
    """Some Allow statement applies and no Deny does: the whole decision for an identity
    policy on its own, and the resource side's for a caller from another account."""
    allow: list[z3.BoolRef] = []
    deny: list[z3.BoolRef] = []
    for statement in policy.statements:
        target = allow if statement.effect == "Allow" else deny
        target.append(statement_applies(statement, request))
    return z3.And(_or(allow), z3.Not(_or(deny)))
