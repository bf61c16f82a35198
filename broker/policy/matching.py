"""Wildcard matching of actions and resources (IAM User Guide, "IAM JSON policy elements:
Action" and "Resource").

* Actions: ``service:Action``, case-insensitive, ``*`` any run of characters, ``?`` one.
* Resources: ARNs, case-sensitive. An ARN has six colon-separated parts
  (``arn:partition:service:region:account:resource``); a wildcard in one of the first five parts
  stays inside that part (it never spans ``:``), while in the resource part ``*`` spans ``/`` and
  ``:`` alike. ``*`` on its own matches every resource.
* Condition ``StringLike`` values: plain globs over the whole value.

Patterns are compiled once into the cheapest test that is exact: equality, a ``startswith``
prefix, or a regular expression only where a wildcard sits in the middle. A ``MatcherSet``
folds the values of one element (a list of patterns) into one set lookup, one tuple
``startswith`` and a short list of regexes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from broker.policy.variables import ContextValue, Literal_, Template

__all__ = [
    "ARN_PARTS",
    "MatcherSet",
    "action_matcher_set",
    "glob_regex",
    "is_valid_arn_pattern",
    "resource_matcher_set",
    "service_of",
    "string_matcher_set",
]

ARN_PARTS = 6


def service_of(action_pattern: str) -> str | None:
    """The literal service prefix of a lower-cased action pattern, or None if it is wild."""
    service, sep, _ = action_pattern.partition(":")
    if not sep or "*" in service or "?" in service:
        return None
    return service


def _glob_source(pieces: Iterable[str | Literal_], *, arn: bool) -> str:
    """Regex source for pattern pieces; with ``arn``, wildcards before the 5th ``:`` stay in
    their part."""
    out: list[str] = []
    colons = 0 if arn else ARN_PARTS
    for piece in pieces:
        literal = isinstance(piece, Literal_)
        text = piece.text if isinstance(piece, Literal_) else piece
        for char in text:
            if char == ":":
                colons += 1
                out.append(":")
            elif not literal and char == "*":
                out.append("[^:]*" if colons < ARN_PARTS - 1 else ".*")
            elif not literal and char == "?":
                out.append("[^:]" if colons < ARN_PARTS - 1 else ".")
            else:
                out.append(re.escape(char))
    return "".join(out)


@lru_cache(maxsize=4096)
def glob_regex(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def is_valid_arn_pattern(text: str) -> bool:
    """Resource values are ``*`` or ARNs with six parts (the last may contain ``:``)."""
    return text == "*" or (text.startswith("arn:") and text.count(":") >= ARN_PARTS - 1)


@dataclass(slots=True)
class MatcherSet:
    """Several patterns folded into the cheapest tests; ``match`` is true if any matches.

    ``templates`` holds patterns with policy variables; they are resolved against the request
    context and compiled (cached) at match time.
    """

    any: bool = False
    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    regexes: tuple[Callable[[str], object], ...] = ()
    templates: tuple[Template, ...] = ()
    arn: bool = False
    ignore_case: bool = False
    size: int = field(default=0)

    def match(self, value: str, context: Mapping[str, ContextValue] | None = None) -> bool:
        if self.any:
            return True
        if self.ignore_case:
            value = value.lower()
        if value in self.exact or (self.prefixes and value.startswith(self.prefixes)):
            return True
        for regex in self.regexes:
            if regex(value):
                return True
        if self.templates and context is not None:
            for template in self.templates:
                resolved = template.resolve(context)
                if resolved is not None:
                    if _template_regex(resolved, self.arn, self.ignore_case).fullmatch(value):
                        return True
        return False


@lru_cache(maxsize=4096)
def _template_regex(
    resolved: tuple[str | Literal_, ...], arn: bool, ignore_case: bool
) -> re.Pattern[str]:
    """The regex of a template once its variables are resolved (cached: the same user's
    requests resolve to the same pieces)."""
    return glob_regex(_glob_source(resolved, arn=arn), ignore_case)


def _build(templates: Iterable[Template], *, arn: bool, ignore_case: bool) -> MatcherSet:
    exact: set[str] = set()
    prefixes: list[str] = []
    regexes: list[Callable[[str], object]] = []
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
        elif (
            wild_at == [len(text) - 1]
            and text[-1] == "*"
            and (not arn or text.count(":") >= ARN_PARTS - 1)
        ):
            prefixes.append(text[:-1])
        else:
            regex = glob_regex(_glob_source((text,), arn=arn), False)
            regexes.append(regex.fullmatch)
    return MatcherSet(
        exact=frozenset(exact),
        prefixes=tuple(prefixes),
        regexes=tuple(regexes),
        templates=tuple(with_vars),
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
