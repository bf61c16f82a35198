"""Whether one statement applies to a request beyond its action (IAM User Guide, "IAM JSON
policy element reference": Resource/NotResource, Principal/NotPrincipal, Condition, policy
variables), and the per-layer index of statements by service prefix.

``why_not`` is the reference form (it can say why, for explanations); ``checker`` builds the
same test as a closure holding only what one statement needs, for the fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from broker.policy.grammar import Policy
from broker.policy.principals import Caller, GrantKind
from broker.policy.request import ContextInput
from broker.policy.statements import Statement
from broker.policy.variables import ContextValue

__all__ = [
    "CACHE_LIMIT",
    "Check",
    "Entry",
    "Layer",
    "NormalContext",
    "Req",
    "any_applies",
    "checker",
    "grant",
    "normalise_context",
    "normalise_value",
    "why_not",
]

CACHE_LIMIT = 4096

Entry = tuple[int, Statement]  # (policy index within its layer, statement)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class NormalContext(dict[str, ContextValue]):
    """A context already in ``normalise_context``'s form (made while reading input that was
    checked value by value anyway), which evaluation then takes as it is."""

    __slots__ = ()


def normalise_value(value: object) -> ContextValue:
    if isinstance(value, str | bool | int | float):
        return _scalar(value)
    return tuple(_scalar(v) for v in value)  # type: ignore[attr-defined]


def normalise_context(context: ContextInput) -> dict[str, ContextValue]:
    """Lower-case keys; booleans and numbers as IAM's strings; sequences as tuples."""
    if type(context) is NormalContext:
        return context
    out: dict[str, ContextValue] = {}
    for key, value in context.items():
        if type(value) is str:
            out[key.lower()] = value
        else:
            out[key.lower()] = normalise_value(value)
    return out


@dataclass(slots=True)
class Req:
    action: str
    resource: str
    context: dict[str, ContextValue]
    caller: Caller
    has_boundary: bool


class Layer:
    """The statements of one layer, indexed by service prefix, with a per-action cache."""

    __slots__ = ("_by_service", "_cache", "_wild", "name", "policies")

    def __init__(self, name: str, policies: Sequence[Policy]) -> None:
        self.name = name
        self.policies = tuple(policies)
        self._by_service: dict[str, list[Entry]] = {}
        self._wild: list[Entry] = []
        self._cache: dict[str, tuple[tuple[Entry, ...], tuple[Entry, ...]]] = {}
        for number, policy in enumerate(self.policies):
            for statement in policy.statements:
                if statement.services is None:
                    self._wild.append((number, statement))
                else:
                    for service in dict.fromkeys(statement.services):
                        self._by_service.setdefault(service, []).append((number, statement))

    def candidates(self, action: str) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
        """(deny, allow) statements whose Action/NotAction covers ``action``, in order."""
        found = self._cache.get(action)
        if found is not None:
            return found
        service = action.partition(":")[0]
        pool = self._by_service.get(service, []) + self._wild
        pool.sort(key=lambda e: (e[0], e[1].index))
        hits = [e for e in pool if e[1].actions.match(action) != e[1].not_action]
        found = (
            tuple(e for e in hits if e[1].effect == "Deny"),
            tuple(e for e in hits if e[1].effect == "Allow"),
        )
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[action] = found
        return found


def why_not(statement: Statement, r: Req, explain: bool) -> str | None:
    """None when the statement applies to the request (beyond its action), else why not."""
    context = r.context
    for key in statement.required_keys:
        if not isinstance(context.get(key), str):
            return f"policy variable ${{{key}}} in NotResource has no value" if explain else ""
    resources = statement.resources
    if resources is not None and resources.match(r.resource, context) == statement.not_resource:
        if not explain:
            return ""
        # The request's resource is not repeated: a batch explains thousands of statements.
        return (
            "NotResource lists the resource"
            if statement.not_resource
            else ("Resource does not match the resource")
        )
    spec = statement.principal
    if spec is not None:
        if statement.not_principal:
            applies = (r.has_boundary and statement.effect == "Deny") or not r.caller.all_listed(
                spec
            )
            if not applies:
                return "NotPrincipal lists every identity of the caller" if explain else ""
        elif r.caller.grant_kind(spec) is None:
            return f"Principal does not name {r.caller.arn or 'anonymous'}" if explain else ""
    for test in statement.conditions:
        if not test.holds(context):
            if not explain:
                return ""
            value = context.get(test.key)
            shown = "missing" if value is None else repr(value)
            return f"condition {test.describe()} is false (context value: {shown})"
    return None


Check = Callable[[Req], bool]


def checker(statement: Statement) -> Check:
    """``why_not(statement, r, False) is None`` as a closure holding only the tests this
    statement needs (most have no variables, no principal, few conditions)."""
    resources = statement.resources
    matches = resources.tester() if resources is not None else None
    not_resource = statement.not_resource
    conditions = statement.conditions
    if not statement.required_keys and statement.principal is None:
        if matches is None:
            return lambda r: all(c.holds(r.context) for c in conditions)
        if not conditions:
            return lambda r: matches(r.resource, r.context) != not_resource
        if len(conditions) == 1:
            (only,) = conditions
            return lambda r: (
                matches(r.resource, r.context) != not_resource and only.holds(r.context)
            )
    return lambda r: why_not(statement, r, False) is None


def any_applies(checks: tuple[Check, ...], r: Req) -> bool:
    """Whether any statement applies (a plain loop: cheaper than ``any`` over a generator)."""
    for check in checks:
        if check(r):
            return True
    return False


def grant(statement: Statement, caller: Caller) -> GrantKind:
    spec = statement.principal
    if spec is None or statement.not_principal:
        return "wildcard"
    return caller.grant_kind(spec) or "wildcard"
