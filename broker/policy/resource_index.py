"""A group of statements found by the request's resource, without testing each one.

Every resource a statement's ``Resource`` matches starts with the text of one of its patterns
before the first wildcard or variable (``MatcherSet.heads``): ``arn:aws:s3:::bucket-7/*`` can
only match resources starting ``arn:aws:s3:::bucket-7/``. Indexing a group by those heads (per
head length, so finding them is one slice and one dict lookup per length) leaves only the
statements that can match to be tested. A statement with ``NotResource``, no ``Resource``, a
``*`` or a pattern starting with a wildcard or variable is always a candidate.

Finding is a filter, never a decision: the candidates are tested exactly as before, and a
statement left out is one whose ``Resource`` cannot match, which would have failed its test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from broker.policy.statements import Statement

__all__ = ["ResourceIndex"]

Item = TypeVar("Item")

# Below this size a group is tested whole: the lookups would cost more than they save.
_SMALL = 4


class ResourceIndex(Generic[Item]):
    """The items of one group (each about one statement), found by resource."""

    __slots__ = ("_always", "_by_length", "items")

    def __init__(self, items: Sequence[Item], statement_of: Callable[[Item], Statement]) -> None:
        self.items = tuple(items)
        always: list[Item] = []
        tables: dict[int, dict[str, list[Item]]] = {}
        for item in self.items:
            statement = statement_of(item)
            resources = statement.resources
            heads = resources.heads if resources is not None else ("",)
            if len(self.items) <= _SMALL or statement.not_resource or "" in heads:
                always.append(item)
                continue
            for head in heads:  # none: an empty Resource list matches nothing
                tables.setdefault(len(head), {}).setdefault(head, []).append(item)
        self._always = tuple(always)
        self._by_length = tuple(
            (length, {head: tuple(found) for head, found in table.items()})
            for length, table in sorted(tables.items())
        )

    def find(self, resource: str) -> Sequence[Item]:
        """The items whose statement's ``Resource`` may match ``resource`` (an item whose
        statement has several heads the resource starts with comes more than once)."""
        if not self._by_length:
            return self._always
        found = list(self._always)
        for length, table in self._by_length:
            hit = table.get(resource[:length])
            if hit is not None:
                found += hit
        return found

    def __bool__(self) -> bool:
        return bool(self.items)
