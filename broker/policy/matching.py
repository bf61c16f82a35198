"""Wildcard matching of actions and resources (IAM User Guide, "IAM JSON policy elements:
Action" and "Resource").

* Actions: ``service:Action``, case-insensitive, ``*`` any run of characters, ``?`` one.
* Resources: ARNs, case-sensitive. An ARN has six colon-separated parts
  (``arn:partition:service:region:account:resource``); a wildcard in one of the first five parts
  stays inside that part (it never spans ``:``), while in the resource part ``*`` spans ``/`` and
  ``:`` alike. ``*`` on its own matches every resource. A shorter pattern ending in ``*``
  (``arn:aws:sqs:*``, ``arn:aws:sqs:us-east-1:*``, ``arn:aws:iam::*``) is valid: its trailing
  ``*`` "can expand to match beyond the colon boundaries" ("Resource", wildcards in ARNs).
* Condition ``StringLike`` values: plain globs over the whole value.

Patterns are compiled once into the cheapest test that is exact: equality, a ``startswith``
prefix, or (``globs``) a linear-time glob only where a wildcard sits in the middle. A ``MatcherSet``
folds the values of one element (a list of patterns) into one set lookup, one tuple
``startswith`` and a short list of regexes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from broker.policy.globs import ARN_PARTS, Glob, compile_glob, compile_glob_set
from broker.policy.variables import ContextValue, Template, Var

__all__ = [
    "ARN_PARTS",
    "MatcherSet",
    "action_matcher_set",
    "is_valid_arn_pattern",
    "resource_matcher_set",
    "service_of",
    "string_matcher_set",
]


def service_of(action_pattern: str) -> str | None:
    """The literal service prefix of a lower-cased action pattern, or None if it is wild."""
    service, sep, _ = action_pattern.partition(":")
    if not sep or "*" in service or "?" in service:
        return None
    return service


def is_valid_arn_pattern(text: str) -> bool:
    """Resource values are ``*``, ARNs with six parts (the last may contain ``:``), or shorter
    ARN patterns whose last part ends in ``*`` (that ``*`` matches the rest of the ARN)."""
    if text == "*":
        return True
    if not text.startswith("arn:") or len(text) == len("arn:"):
        return False
    return text.count(":") >= ARN_PARTS - 1 or (text.endswith("*") and not text.endswith("${*}"))


@dataclass(slots=True)
class MatcherSet:
    """Several patterns folded into the cheapest tests; ``match`` is true if any matches.

    ``templates`` holds patterns with policy variables; they are resolved against the request
    context and compiled at match time. How they resolve depends only on the context's values of
    the variables' keys, so the compiled tests are kept per those values (``_resolved``): a batch
    repeats a few tag values over thousands of requests.
    """

    any: bool = False
    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    glob: Glob | None = None  # the patterns with a wildcard mid-way, as one test
    templates: tuple[Template, ...] = ()
    arn: bool = False
    ignore_case: bool = False
    size: int = field(default=0)
    variable_keys: tuple[str, ...] = ()  # the context keys the templates' variables read
    # Every value a case-sensitive set matches starts with one of these (the patterns' text
    # before their first wildcard or variable); ``("",)``: no such filter.
    heads: tuple[str, ...] = ("",)
    _resolved: dict[object, tuple[Glob, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def match(self, value: str, context: Mapping[str, ContextValue] | None = None) -> bool:
        if self.any:
            return True
        if self.ignore_case:
            value = value.lower()
        if value in self.exact or (self.prefixes and value.startswith(self.prefixes)):
            return True
        if self.glob is not None and self.glob(value):
            return True
        if self.templates and context is not None:
            return self._match_templates(value, context)
        return False

    def _match_templates(self, value: str, context: Mapping[str, ContextValue]) -> bool:
        """Whether a pattern with variables, resolved against ``context``, matches ``value``."""
        found = tuple([context.get(key) for key in self.variable_keys])
        try:
            tests = self._resolved.get(found)
        except TypeError:  # a context not in normal form (a list value): resolve, keep nothing
            tests = self._resolve(context)
        if tests is None:
            if len(self._resolved) >= _RESOLVED_LIMIT:
                self._resolved.clear()
            tests = self._resolved[found] = self._resolve(context)
        for test in tests:
            if test(value):
                return True
        return False

    def _resolve(self, context: Mapping[str, ContextValue]) -> tuple[Glob, ...]:
        return tuple(
            compile_glob(resolved, self.arn)
            for template in self.templates
            if (resolved := template.resolve(context)) is not None
        )

    def tester(self) -> Callable[[str, Mapping[str, ContextValue]], bool]:
        """``match`` specialised to the few tests this set really needs (the hot path)."""
        if self.any:
            return lambda _value, _context: True
        if self.ignore_case or self.templates:
            return self.match
        exact, prefixes, glob = self.exact, self.prefixes, self.glob
        if glob is not None:
            if not exact and not prefixes:
                return lambda value, _context: bool(glob(value))
            return lambda value, _context: (
                value in exact
                or (bool(prefixes) and value.startswith(prefixes))
                or bool(glob(value))
            )
        if not prefixes:
            return lambda value, _context: value in exact
        if not exact:
            return lambda value, _context: value.startswith(prefixes)
        return lambda value, _context: value in exact or value.startswith(prefixes)


_RESOLVED_LIMIT = 4096


def _variable_keys(templates: Iterable[Template]) -> tuple[str, ...]:
    """The context keys the variables of ``templates`` read, each once."""
    return tuple(
        dict.fromkeys(
            piece.key
            for template in templates
            for piece in template.pieces
            if isinstance(piece, Var)
        )
    )


def _head(pattern: str) -> str:
    """The text before the first wildcard of ``pattern``."""
    for index, char in enumerate(pattern):
        if char in "*?":
            return pattern[:index]
    return pattern


def _template_head(template: Template) -> str:
    """The pattern text a template starts with, before any wildcard or variable."""
    first = template.pieces[0]
    return _head(first) if isinstance(first, str) else ""


def _build(templates: Iterable[Template], *, arn: bool, ignore_case: bool) -> MatcherSet:
    exact: set[str] = set()
    prefixes: list[str] = []
    wild: list[str] = []
    with_vars: list[Template] = []
    count = 0
    for template in templates:
        count += 1
        if not template.is_plain:
            with_vars.append(template)
            continue
        text = template.pieces[0]
        assert isinstance(text, str)
        if ignore_case:
            text = text.lower()
        if text == "*":
            return MatcherSet(any=True, size=count)
        wild_at = [i for i, c in enumerate(text) if c in "*?"]
        if not wild_at:
            exact.add(text)
        elif wild_at == [len(text) - 1] and text[-1] == "*":
            # A lone trailing ``*`` spans everything after it, in a short ARN pattern too.
            prefixes.append(text[:-1])
        else:
            wild.append(text)
    heads = (*exact, *prefixes, *(_head(w) for w in wild), *(_template_head(t) for t in with_vars))
    return MatcherSet(
        exact=frozenset(exact),
        prefixes=tuple(prefixes),
        heads=("",) if ignore_case else tuple(dict.fromkeys(heads)),
        glob=compile_glob_set(tuple(wild), arn) if wild else None,
        templates=tuple(with_vars),
        variable_keys=_variable_keys(with_vars),
        arn=arn,
        ignore_case=ignore_case,
        size=count,
    )


def action_matcher_set(patterns: Iterable[str]) -> MatcherSet:
    """Actions: case-insensitive globs over ``service:Action``."""
    return _build((Template((p,), ()) for p in patterns), arn=False, ignore_case=True)


def resource_matcher_set(templates: Iterable[Template]) -> MatcherSet:
    """Resources: case-sensitive ARN globs (wildcards stay inside the first five parts)."""
    return _build(templates, arn=True, ignore_case=False)


def string_matcher_set(templates: Iterable[Template], *, ignore_case: bool = False) -> MatcherSet:
    """``StringLike`` values: globs over the whole string."""
    return _build(templates, arn=False, ignore_case=ignore_case)
