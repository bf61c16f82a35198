"""Shrink a disagreeing scenario to a small one that still disagrees, so a divergence can be read
(and, when it is ours, turned into a unit test). Each round tries every one-step reduction —
drop a policy, a statement, a condition, a context key, an extra list value — in one batch per
evaluator, and keeps the first that still disagrees."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from tests.differential.generator import Scenario
from tests.differential.oracle import run_oracle, run_ours

__all__ = ["shrink"]


def _statement_lists(s: Scenario) -> Iterator[list[dict[str, Any]]]:
    for doc in s.identity:
        yield doc["Statement"]
    for doc in (s.boundary, s.session, s.resource_policy):
        if doc is not None:
            yield doc["Statement"]
    yield from s.scps
    yield from s.rcps


def _reductions(s: Scenario) -> Iterator[Scenario]:
    def variant() -> Scenario:
        return copy.deepcopy(s)

    for i in range(len(s.identity)):
        v = variant()
        del v.identity[i]
        yield v
    for name in ("boundary", "session", "resource_policy"):
        if getattr(s, name) is not None:
            v = variant()
            setattr(v, name, None)
            yield v
    for levels in ("scps", "rcps"):
        for i in range(len(getattr(s, levels))):
            v = variant()
            del getattr(v, levels)[i]
            yield v
    lists = list(_statement_lists(s))
    for li, statements in enumerate(lists):
        for si, statement in enumerate(statements):
            if len(statements) > 1:
                v = variant()
                del list(_statement_lists(v))[li][si]
                yield v
            for element in ("Action", "NotAction", "Resource", "NotResource"):
                value = statement.get(element)
                if isinstance(value, list) and len(value) > 1:
                    for keep in value:
                        v = variant()
                        list(_statement_lists(v))[li][si][element] = keep
                        yield v
            for op, keys in statement.get("Condition", {}).items():
                for key in keys:
                    v = variant()
                    block = list(_statement_lists(v))[li][si]["Condition"]
                    del block[op][key]
                    if not block[op]:
                        del block[op]
                    if not block:
                        del list(_statement_lists(v))[li][si]["Condition"]
                    yield v
    for key in s.context:
        v = variant()
        del v.context[key]
        yield v


def _disagree(ours: dict[str, Any], oracle: dict[str, Any]) -> bool:
    return "decision" in ours and "decision" in oracle and ours["decision"] != oracle["decision"]


def shrink(s: Scenario, rounds: int = 40) -> Scenario:
    """A smaller scenario on which the evaluators still disagree (``s`` itself if none is)."""
    current = s
    for _ in range(rounds):
        candidates = list(_reductions(current))
        if not candidates:
            break
        ours, oracle = run_ours(candidates), run_oracle(candidates)
        for candidate, a, b in zip(candidates, ours, oracle, strict=True):
            if _disagree(a, b):
                candidate.tags = current.tags
                current = candidate
                break
        else:
            break
    return current
