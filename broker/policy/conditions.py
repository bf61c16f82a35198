"""Condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators" and
"Condition with multiple context keys or values").

Rules implemented here, each tested against the doc section it comes from:

* Several operators in a block, and several keys under one operator, are AND-ed; several values
  for one key are OR-ed.
* A negated operator (``StringNotEquals``, ``StringNotLike``, ``NumericNotEquals``,
  ``DateNotEquals``, ``NotIpAddress``, ``ArnNotEquals``, ``ArnNotLike``) is true when the
  context value matches *none* of the values.
* A missing key: a positive operator is false, a negated one is true, an ``...IfExists`` form
  is true (except under ``ForAnyValue:``); ``Null: true`` is true exactly when the key is missing.
* A policy variable with no value in a condition value is a null that no context value matches
  ("Policy variables with no value"): the key's other values are still ORed, and a negated
  operator is true for it.
* ``ForAllValues:`` is true when every context value passes (so true for a missing key or an
  empty set); ``ForAnyValue:`` when at least one does (so false for a missing key, with
  ``IfExists`` too); an empty value counts as an empty set for both, and as absent for ``Null``
  ("Condition set operators for multivalued context keys"). Without a qualifier a multi-valued
  key passes a positive operator when any
  of its values does, and a negated operator when none matches.
* Condition keys are case-insensitive; values are case-sensitive except for the
  ``IgnoreCase`` operators, ``Bool`` and the action-like parts AWS documents.
* A context value that cannot be read as the operator's type (a number, a date, an IP
  address, an ARN of six parts) makes that condition false, negated or not: a malformed value
  never grants by slipping through a ``Not`` operator's "matches nothing".
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from broker.policy.findings import Finding
from broker.policy.matching import MatcherSet, resource_matcher_set, string_matcher_set
from broker.policy.variables import ContextValue, Template, TemplateSyntaxError, parse_template

__all__ = [
    "BASE_OPERATORS",
    "ConditionTest",
    "compile_conditions",
    "parse_date",
    "parse_operator",
]

Qualifier = Literal["any", "all"] | None

# base operator -> (family, negated)
BASE_OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("string", False),
    "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("string_ci", False),
    "StringNotEqualsIgnoreCase": ("string_ci", True),
    "StringLike": ("string_like", False),
    "StringNotLike": ("string_like", True),
    "NumericEquals": ("numeric_eq", False),
    "NumericNotEquals": ("numeric_eq", True),
    "NumericLessThan": ("numeric_lt", False),
    "NumericLessThanEquals": ("numeric_le", False),
    "NumericGreaterThan": ("numeric_gt", False),
    "NumericGreaterThanEquals": ("numeric_ge", False),
    "DateEquals": ("date_eq", False),
    "DateNotEquals": ("date_eq", True),
    "DateLessThan": ("date_lt", False),
    "DateLessThanEquals": ("date_le", False),
    "DateGreaterThan": ("date_gt", False),
    "DateGreaterThanEquals": ("date_ge", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary", False),
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
    "ArnEquals": ("arn", False),
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "Null": ("null", False),
}

_VARIABLE_FAMILIES = frozenset({"string", "string_ci", "string_like", "arn"})


class _Incomparable(Exception):
    """The context value cannot be read as the operator's type."""


def parse_operator(name: str) -> tuple[Qualifier, str, bool] | None:
    """``ForAnyValue:StringLikeIfExists`` -> ("any", "StringLike", True); None if unknown."""
    qualifier: Qualifier = None
    base = name
    if name.startswith("ForAnyValue:"):
        qualifier, base = "any", name[len("ForAnyValue:") :]
    elif name.startswith("ForAllValues:"):
        qualifier, base = "all", name[len("ForAllValues:") :]
    if_exists = False
    if base.endswith("IfExists") and base != "IfExists":
        base, if_exists = base[: -len("IfExists")], True
    if base not in BASE_OPERATORS:
        return None
    if base == "Null" and (if_exists or qualifier is not None):
        return None
    return qualifier, base, if_exists


def parse_date(text: str) -> float:
    """An ISO 8601 date/time (UTC when no offset) or epoch seconds, as epoch seconds."""
    stripped = text.strip()
    try:
        if stripped.lstrip("-").isdigit():
            return float(int(stripped))
        moment = datetime.fromisoformat(stripped)
    except ValueError as exc:
        raise _Incomparable from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _number(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise _Incomparable from exc
    if not value.is_finite():
        raise _Incomparable
    return value


def _binary(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode()


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError as exc:
        raise _Incomparable from exc


Test = Callable[[str, Mapping[str, ContextValue]], bool]


def _ordered(family: str, convert: Callable[[str], Any], values: Sequence[str]) -> Test:
    bounds = [convert(v) for v in values]
    compare: Callable[[Any, Any], bool] = {
        "eq": lambda x, b: x == b,
        "lt": lambda x, b: x < b,
        "le": lambda x, b: x <= b,
        "gt": lambda x, b: x > b,
        "ge": lambda x, b: x >= b,
    }[family.rsplit("_", 1)[1]]

    def test(value: str) -> bool:
        x = convert(value)
        return any(compare(x, b) for b in bounds)

    return _remembered(test)


_REMEMBERED_LIMIT = 4096


def _remembered(decide: Callable[[str], bool]) -> Test:
    """A test that reads only the context value, its answers kept per value: parsing a date,
    number or address is most of its cost, and a batch repeats a few values over thousands of
    requests. An incomparable value is remembered as such and raises again."""
    answers: dict[str, bool | None] = {}

    def test(value: str, _context: Mapping[str, ContextValue]) -> bool:
        try:
            answer = answers[value]
        except KeyError:
            try:
                answer = decide(value)
            except _Incomparable:
                answer = None
            if len(answers) >= _REMEMBERED_LIMIT:
                answers.clear()
            answers[value] = answer
        if answer is None:
            raise _Incomparable
        return answer

    return test


def _string_test(family: str, templates: Sequence[Template]) -> Test:
    if family == "string_like":
        matcher: MatcherSet = string_matcher_set(templates)
        return lambda value, context: matcher.match(value, context)
    if family == "arn":
        arns = resource_matcher_set(templates)

        def arn_test(value: str, context: Mapping[str, ContextValue]) -> bool:
            # "Each of the six colon-delimited components of the ARN is checked separately":
            # a context value without six parts cannot be compared (false, negated or not).
            if not value.startswith("arn:") or value.count(":") < 5:
                raise _Incomparable
            return arns.match(value, context)

        return arn_test
    fold = family == "string_ci"
    texts = [t.pieces[0] for t in templates if t.is_plain]
    plain = {(t.lower() if fold else t) for t in texts if isinstance(t, str)}
    dynamic = [t for t in templates if not t.is_plain]
    if not dynamic:
        if fold:
            return lambda value, _context: value.lower() in plain
        return lambda value, _context: value in plain

    def test(value: str, context: Mapping[str, ContextValue]) -> bool:
        probe = value.lower() if fold else value
        if probe in plain:
            return True
        for template in dynamic:
            text = template.text(context)
            if text is not None and (text.lower() if fold else text) == probe:
                return True
        return False

    return test


def _make_test(family: str, values: Sequence[str], substitute: bool) -> Test:
    """The positive single-value test: does one context value match any policy value?"""
    if family in _VARIABLE_FAMILIES:
        templates = [parse_template(v, substitute=substitute) for v in values]
        return _string_test(family, templates)
    if family.startswith("numeric"):
        return _ordered(family, _number, values)
    if family.startswith("date"):
        return _ordered(family, parse_date, values)
    if family == "bool":
        wanted = {v.lower() for v in values}
        return lambda value, _context: value.lower() in wanted
    if family == "binary":
        blobs = {_binary(v) for v in values}
        return _remembered(lambda value: _binary(value) in blobs)
    if family == "ip":
        networks = [ipaddress.ip_network(v.strip(), strict=False) for v in values]

        def in_networks(value: str) -> bool:
            address = _ip(value)
            return any(address in network for network in networks)

        return _remembered(in_networks)
    raise AssertionError(family)


@dataclass(frozen=True, slots=True)
class ConditionTest:
    """One (operator, key, values) triple of a Condition block, compiled."""

    operator: str
    key: str  # lower-cased
    key_display: str
    values: tuple[str, ...]
    base: str
    negated: bool
    if_exists: bool
    qualifier: Qualifier
    test: Test

    def holds(self, context: Mapping[str, ContextValue]) -> bool:
        """Whether this condition is true for the (normalised) request context."""
        value = context.get(self.key)
        if self.base == "Null":
            present = value is not None and value != () and value != ""
            return any((v.lower() == "true") != present for v in self.values)
        if value is None or value == () or (value == "" and self.qualifier is not None):
            if self.qualifier == "all":
                return True
            if self.qualifier == "any":
                # No value at all, so none passes: false, with IfExists too (IAM User Guide,
                # "Single-valued vs. multivalued context keys": ForAnyValue on a missing key
                # evaluates to false; IfExists does not turn it into "no key, no test").
                return False
            return self.if_exists or self.negated
        try:
            if isinstance(value, str):
                return self.test(value, context) != self.negated
            if self.qualifier == "all":
                return all(self.test(v, context) != self.negated for v in value)
            if self.qualifier == "any":
                return any(self.test(v, context) != self.negated for v in value)
            return any(self.test(v, context) for v in value) != self.negated
        except _Incomparable:
            return False

    def describe(self) -> str:
        shown = ", ".join(repr(v) for v in self.values)
        return f"{self.operator} {self.key_display} [{shown}]"


def _scalar(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) or isinstance(value, str):
        return str(value)
    return None


def _check_values(family: str, values: Sequence[str], path: str) -> list[Finding]:
    problems: list[Finding] = []

    def bad(message: str) -> None:
        problems.append(Finding("error", path, message, "invalid_condition_value"))

    for value in values:
        try:
            if family.startswith("numeric"):
                _number(value)
            elif family.startswith("date"):
                parse_date(value)
            elif family in ("bool", "null"):
                if value.lower() not in ("true", "false"):
                    bad(f'"{value}" is not a boolean: use "true" or "false"')
            elif family == "ip":
                ipaddress.ip_network(value.strip(), strict=False)
            elif family == "binary":
                base64.b64decode(value, validate=True)
            elif family == "arn" and "${" not in value and value != "*" and value.count(":") < 5:
                # "Condition operators" > ARN: each of the six colon-delimited parts is compared
                # on its own; the Resource element's short patterns do not apply here.
                bad(
                    f'"{value}" is not a six-part ARN (arn:partition:service:region:account:'
                    'resource); ARN operators compare the parts one by one, "*" in any part'
                )
        except (_Incomparable, ValueError, binascii.Error):
            kind = {"ip": "an IP address or CIDR", "binary": "base64"}.get(
                family, "a number" if family.startswith("numeric") else "a date"
            )
            bad(f'"{value}" is not {kind}')
    return problems


def compile_conditions(
    block: object, *, path: str, substitute: bool, findings: list[Finding]
) -> tuple[ConditionTest, ...]:
    """Compile a Condition element, appending every problem found to ``findings``."""
    if not isinstance(block, Mapping):
        findings.append(
            Finding("error", path, "Condition must be an object of operators", "invalid_type")
        )
        return ()
    tests: list[ConditionTest] = []
    for operator, keys in block.items():
        op_path = f"{path}.{operator}"
        parsed = parse_operator(str(operator))
        if parsed is None:
            hint = _suggest_operator(str(operator))
            findings.append(
                Finding(
                    "error",
                    path,
                    f'unknown operator "{operator}"'
                    + (f'; did you mean "{hint}"?' if hint else ""),
                    "unknown_operator",
                )
            )
            continue
        qualifier, base, if_exists = parsed
        family, negated = BASE_OPERATORS[base]
        if not isinstance(keys, Mapping) or not keys:
            findings.append(
                Finding("error", op_path, "must be a non-empty object of keys", "invalid_type")
            )
            continue
        for key, raw in keys.items():
            key_path = f"{op_path}.{key}"
            raw_values = raw if isinstance(raw, list) else [raw]
            values = [_scalar(v) for v in raw_values]
            if not raw_values or any(v is None for v in values):
                findings.append(
                    Finding(
                        "error",
                        key_path,
                        "values must be strings, numbers or booleans (or a non-empty list)",
                        "invalid_type",
                    )
                )
                continue
            strings = [v for v in values if v is not None]
            problems = _check_values(family, strings, key_path)
            if family in _VARIABLE_FAMILIES and substitute:
                for value in strings:
                    try:
                        parse_template(value, substitute=True)
                    except TemplateSyntaxError as exc:
                        problems.append(Finding("error", key_path, str(exc), "invalid_variable"))
            if problems:
                findings.extend(problems)
                continue
            tests.append(
                ConditionTest(
                    operator=str(operator),
                    key=str(key).lower(),
                    key_display=str(key),
                    values=tuple(strings),
                    base=base,
                    negated=negated,
                    if_exists=if_exists,
                    qualifier=qualifier,
                    test=_make_test(family, strings, substitute) if family != "null" else _never,
                )
            )
    return tuple(tests)


def _never(_value: str, _context: Mapping[str, ContextValue]) -> bool:
    return False


def _suggest_operator(name: str) -> str | None:
    """The operator that differs only in letter case (a frequent typo), if any."""
    lowered = name.lower()
    for prefix in ("", "ForAnyValue:", "ForAllValues:"):
        for base in BASE_OPERATORS:
            for suffix in ("", "IfExists"):
                candidate = f"{prefix}{base}{suffix}"
                if candidate.lower() == lowered and parse_operator(candidate) is not None:
                    return candidate
    return None
