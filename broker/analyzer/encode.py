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
import re
from collections.abc import Iterable, Sequence

import z3

from broker.analyzer.globs import glob, literal
from broker.analyzer.support import encodable
from broker.analyzer.symbolic import ArnParts, IpKey, StrKey, SymbolicRequest
from broker.policy import Policy, Statement
from broker.policy.conditions import ConditionTest
from broker.policy.principals import PrincipalSpec

__all__ = ["condition_holds", "decision", "is_one_of", "statement_applies"]

_ARN_FAMILY = frozenset({"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"})
_IP = frozenset({"IpAddress", "NotIpAddress"})
_LIKE = frozenset({"StringLike", "StringNotLike"})
_FOLD = frozenset({"StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "Bool"})


def _arn_shape() -> z3.ReRef:
    """A six-part ARN (made per query: each query has a z3 context of its own)."""
    return glob("arn:*:*:*:*:*", arn=True, ignore_case=False)


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


def _parts_equal(parts: ArnParts, values: Iterable[str]) -> z3.BoolRef:
    """A principal ARN in parts equals one of ``values``."""
    options = []
    for value in sorted(set(values)):
        split = value.split(":", 5)
        if len(split) == 6 and split[:4] == ["arn", "aws", parts.service, ""]:
            options.append(
                z3.And(is_one_of(parts.account, [split[4]]), is_one_of(parts.tail, [split[5]]))
            )
    return _or(options)


def _part_matches(pattern: str, text: str) -> bool:
    """A glob part before the fifth colon (no ``:`` inside) against a constant part."""
    regex = "".join("[^:]*" if c == "*" else "[^:]" if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _parts_like(parts: ArnParts, patterns: Sequence[str]) -> z3.BoolRef:
    """ARN-semantics globs (``ArnLike``) against a principal ARN in parts: wildcards before the
    fifth colon stay inside their part, so the pattern splits as the ARN does."""
    options = []
    for pattern in patterns:
        split = pattern.split(":", 5)
        fixed = ("arn", "aws", parts.service, "")
        if len(split) < 6 or not all(
            _part_matches(p, t) for p, t in zip(split, fixed, strict=False)
        ):
            continue
        options.append(
            z3.And(
                z3.InRe(parts.account, glob(split[4], arn=True, ignore_case=False)),
                z3.InRe(parts.tail, glob(split[5], arn=False, ignore_case=False)),
            )
        )
    return _or(options)


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
        # An empty string counts as absent for Null (as the engine reads it).
        present = key.present
        if isinstance(key, StrKey):
            present = z3.And(key.present, z3.Length(key.value) > 0)
        return _or([z3.Not(present) if v.lower() == "true" else present for v in test.values])
    absent = z3.BoolVal(test.if_exists or test.negated)
    if isinstance(key, IpKey):
        matched = _or([_in_network(key, v) for v in test.values])
        present = z3.If(key.malformed, z3.BoolVal(False), matched != z3.BoolVal(test.negated))
        return z3.If(key.present, present, absent)
    assert isinstance(key, StrKey)
    if any("${" in v for v in test.values):
        return unknown
    if key.parts is not None and test.base in _ARN_FAMILY:
        matched = _parts_like(key.parts, test.values)
    elif key.parts is not None and test.base in ("StringEquals", "StringNotEquals"):
        matched = _parts_equal(key.parts, test.values)
    elif test.base in _ARN_FAMILY or test.base in _LIKE:
        matched = _any_of(test.values, key.value, arn=test.base in _ARN_FAMILY, fold=False)
    else:
        matched = _equals_any(test.values, key.value, fold=test.base in _FOLD)
    if test.negated:
        matched = z3.Not(matched)
    if key.parts is None and test.base in _ARN_FAMILY:
        # As the engine: a value that is not a six-part ARN makes an ARN condition false.
        matched = z3.And(z3.InRe(key.value, _arn_shape()), matched)
    return z3.If(key.present, matched, absent)


def _names(spec: PrincipalSpec, request: SymbolicRequest) -> z3.BoolRef:
    """``Caller.grant_kind(spec) is not None``."""
    if spec.wildcard:
        return z3.BoolVal(True)
    if not request.iam:
        return z3.BoolVal(request.shape.name in spec.external)
    assert request.arn_parts is not None
    options = [
        _parts_equal(request.arn_parts, spec.arns),
        is_one_of(request.account, spec.accounts),
    ]
    if request.role_arn_parts is not None:
        options.append(_parts_equal(request.role_arn_parts, spec.arns))
    return _or(options)


def _lists_all(spec: PrincipalSpec, request: SymbolicRequest) -> z3.BoolRef:
    """``Caller.all_listed(spec)``: NotPrincipal's exemption."""
    if spec.wildcard:
        return z3.BoolVal(True)
    if not request.iam:
        return z3.BoolVal(request.shape.name in spec.external)
    assert request.arn_parts is not None
    parts = [is_one_of(request.account, spec.accounts), _parts_equal(request.arn_parts, spec.arns)]
    if request.role_arn_parts is not None:
        parts.append(_parts_equal(request.role_arn_parts, spec.arns))
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
