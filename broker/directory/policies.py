"""Policy documents the directory refers to: reading ``config/policies/*.json`` and checking them.

Every call into the policy engine (``broker.policy.validate_policy``) goes through
``check_policy``, the directory's one seam to it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

__all__ = ["PolicyProblem", "check_policy", "parse_document", "policy_file", "read_policy"]

if TYPE_CHECKING:
    from broker.policy import PolicyKind


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
    """The policy engine's findings about ``doc`` as a policy of ``kind``."""
    from broker.policy import validate_policy  # ~45 ms: only validation needs it

    return [PolicyProblem(f.severity, f.path, f.message) for f in validate_policy(doc, kind=kind)]
