"""The explanation of a decision: per layer, which statements were about the action, which
applied, which did not and why, and the final result with the statements that decided it.

Built only when asked (``explain=True``); the fast path records nothing. A property test checks
that both paths always reach the same decision.

Explanations are references, not copies: a statement is named by its layer, policy number
(``policy_name`` where the policy has one, such as its JSON path in a simulation input),
statement index and Sid, so a batch of thousands of explained requests stays small. With
``full``, statements whose Action does not cover the request's action are listed too (reason
"Action does not match"), so a layer that has statements never explains a NoMatch with an
empty list.
"""

from __future__ import annotations

from typing import Any

from broker.policy.principals import Caller
from broker.policy.request import Decision, DecisionName
from broker.policy.statements import Statement

__all__ = ["Trace"]


class Trace:
    """Collects what evaluation saw, layer by layer."""

    __slots__ = ("_caller", "_explain", "_first_allow", "_first_deny", "_layers", "denied")

    def __init__(self, explain: bool, caller: Caller) -> None:
        self._explain = explain
        self._caller = caller
        self._layers: dict[str, dict[str, Any]] = {}
        self._first_allow: dict[str, dict[str, Any]] = {}
        self._first_deny: dict[str, Any] | None = None
        self.denied = False

    def _layer(self, name: str) -> dict[str, Any]:
        entry = self._layers.get(name)
        if entry is None:
            entry = {"layer": name, "applies": True, "statements": [], "result": "NoMatch"}
            self._layers[name] = entry
        return entry

    def saw(
        self, layer: str, policy_name: str, number: int, statement: Statement, why: str | None
    ) -> None:
        """Record that ``statement`` (about the action) applied (``why`` None) or not."""
        if why is None and statement.effect == "Deny":
            self.denied = True
        if not self._explain:
            return
        entry = self._layer(layer)
        item: dict[str, Any] = {
            "policy": number,
            "statement": statement.index,
            "effect": statement.effect,
            "applies": why is None,
        }
        if statement.sid:
            item["sid"] = statement.sid
        if policy_name:
            item["policy_name"] = policy_name
        if why is not None:
            item["reason"] = why
        entry["statements"].append(item)
        if why is None:
            reference = {"layer": layer, **{k: v for k, v in item.items() if k != "applies"}}
            if statement.effect == "Deny":
                entry["result"] = "ExplicitDeny"
                if self._first_deny is None:
                    self._first_deny = reference
            else:
                self._first_allow.setdefault(layer, reference)
                if entry["result"] == "NoMatch":
                    entry["result"] = "Allow"

    def begin(self, layers: list[tuple[str, int]]) -> None:
        """Open the layers in evaluation order; an empty one says so."""
        if self._explain:
            for name, count in layers:
                entry = self._layer(name)
                if count == 0:
                    entry["applies"] = False
                    entry["result"] = "NotApplicable"
                    entry["note"] = "no policies of this type"

    def skip(self, layer: str, note: str) -> None:
        if self._explain:
            entry = self._layer(layer)
            entry["applies"] = False
            entry["result"] = "NotApplicable"
            entry["note"] = note

    def finish(self, decision: DecisionName, reason: str) -> Decision:
        """The decision, with ``deciding``: the Deny that applied, or for an Allow the first
        applying Allow of every layer that allowed (each layer that must allow did)."""
        explanation: list[dict[str, Any]] = []
        if self._explain:
            if decision == "ExplicitDeny":
                deciding = [self._first_deny] if self._first_deny is not None else []
            elif decision == "Allow":
                deciding = [
                    self._first_allow[name]
                    for name in self._layers
                    if name in self._first_allow and self._layers[name]["applies"]
                ]
            else:
                deciding = []
            explanation = list(self._layers.values())
            explanation.append(
                {
                    "layer": "decision",
                    "decision": decision,
                    "principal": self._caller.arn,
                    "principal_type": self._caller.kind,
                    "reason": reason,
                    "deciding": deciding,
                }
            )
        return Decision(decision, decision == "Allow", explanation)
