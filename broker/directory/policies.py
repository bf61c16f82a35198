"""Policy documents the directory refers to: reading ``config/policies/*.json`` and checking them.

Every call into the policy engine (``broker.policy.validate_policy``) goes through
``check_policy``, the directory's one seam to it. Until the engine is present it falls back
to the structural checks below, which the engine's findings supersede.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = ["PolicyKind", "PolicyProblem", "check_policy", "policy_file", "read_policy"]

PolicyKind = Literal["identity", "resource", "trust", "scp", "boundary", "session", "key"]


@dataclass(frozen=True)
class PolicyProblem:
    """One finding about a policy document; only ``error`` makes the directory invalid."""

    severity: str
    path: str
    message: str


def policy_file(policies_dir: Path, name: str) -> Path:
    return policies_dir / f"{name}.json"


def read_policy(policies_dir: Path, name: str) -> tuple[dict[str, Any] | None, str | None]:
    """The parsed document named ``name``, or None and a one-line reason."""
    path = policy_file(policies_dir, name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, f"no policy file {path.name} in {policies_dir}"
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror}"
    return parse_document(text)


def parse_document(text: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
    if not isinstance(doc, dict):
        return None, "a policy document must be a JSON object"
    return doc, None


def check_policy(doc: Mapping[str, Any], kind: PolicyKind) -> list[PolicyProblem]:
    """Findings about ``doc`` as a policy of ``kind``: the policy engine's, when installed."""
    try:
        from broker.policy import validate_policy  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return _structural(doc)
    return [
        PolicyProblem(str(f.severity), str(f.path), str(f.message))
        for f in validate_policy(doc, kind=kind)
    ]


def _structural(doc: Mapping[str, Any]) -> list[PolicyProblem]:
    """The grammar's outline (Version, Statement, Effect, Action) when the engine is absent."""
    problems: list[PolicyProblem] = []
    if doc.get("Version") not in ("2012-10-17", "2008-10-17"):
        problems.append(PolicyProblem("error", "Version", 'Version must be "2012-10-17"'))
    statements = doc.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        problems.append(PolicyProblem("error", "Statement", "Statement must be a non-empty list"))
        return problems
    for i, stmt in enumerate(statements):
        where = f"Statement[{i}]"
        if not isinstance(stmt, dict):
            problems.append(PolicyProblem("error", where, "a statement must be an object"))
            continue
        if stmt.get("Effect") not in ("Allow", "Deny"):
            problems.append(
                PolicyProblem("error", f"{where}.Effect", "Effect must be Allow or Deny")
            )
        if ("Action" in stmt) == ("NotAction" in stmt):
            problems.append(
                PolicyProblem("error", where, "exactly one of Action or NotAction is required")
            )
    return problems
