"""The reviewed list of the oracle's known divergences (``divergences.toml``) and the check that
a disagreement really is one of them: rewrite the case without the construct (``neutralize``)
and require the evaluators to agree on the rewritten case."""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.differential.generator import Scenario

__all__ = ["Divergence", "load_divergences", "neutralized"]

PATH = Path(__file__).with_name("divergences.toml")
_FIELDS = ("tag", "generated", "neutralize", "ours", "oracle", "source", "decides")
_VARIABLE_KEYS = ("aws:username", "aws:PrincipalTag/team", "aws:PrincipalTag/dept")


@dataclass(frozen=True)
class Divergence:
    tag: str
    generated: bool
    neutralize: str
    ours: str
    oracle: str
    source: str
    decides: str


def load_divergences(path: Path = PATH) -> list[Divergence]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries: list[Divergence] = []
    for raw in data["divergence"]:
        missing = [f for f in _FIELDS if f not in raw]
        if missing or set(raw) - set(_FIELDS):
            raise ValueError(f"divergence {raw.get('tag')!r}: fields must be exactly {_FIELDS}")
        entries.append(Divergence(**raw))
    return entries


def _fill_variables(s: Scenario) -> None:
    # A value no policy compares with: the variable now has one, the rest reads the same.
    for key in _VARIABLE_KEYS:
        s.context.setdefault(key, "zz-filled")


def _drop_session_and_boundary(s: Scenario) -> None:
    # A session policy that allows everything bounds nothing, and a federated user keeps the
    # permissions of the user that made it (without one it would have none).
    if s.session is not None:
        s.session = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    s.boundary = None


def _drop_not_principal(s: Scenario) -> None:
    if s.resource_policy is not None:
        kept = [st for st in s.resource_policy["Statement"] if "NotPrincipal" not in st]
        s.resource_policy = {**s.resource_policy, "Statement": kept} if kept else None


def _fill_empty_lists(s: Scenario) -> None:
    for key, value in s.context.items():
        if value == []:
            s.context[key] = ["zz-filled"]


_NEUTRALIZERS: dict[str, Any] = {
    "fill-empty-lists": _fill_empty_lists,
    "drop-not-principal": _drop_not_principal,
    "fill-variables": _fill_variables,
    "drop-session-and-boundary": _drop_session_and_boundary,
}


def neutralized(s: Scenario, entries: list[Divergence]) -> Scenario:
    """``s`` with the constructs of ``entries`` taken out."""
    out = copy.deepcopy(s)
    for entry in entries:
        _NEUTRALIZERS[entry.neutralize](out)
    out.tags = out.tags - {e.tag for e in entries}
    return out


def neutralizer_names() -> set[str]:
    return set(_NEUTRALIZERS) | {"none"}
