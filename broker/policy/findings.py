"""Validation findings, shaped like IAM Access Analyzer's policy checks.

Access Analyzer sorts what it finds into errors (the policy is invalid), security warnings
(valid but more permissive than it looks), warnings and suggestions; each finding names the JSON
path it is about. ``broker policy validate`` prints them and exits 1 when any is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from broker.errors import PolicyError

__all__ = ["Finding", "PolicyKind", "PolicyValidationError", "Severity"]

PolicyKind = Literal["identity", "resource", "trust", "scp", "boundary", "session", "key", "rcp"]
Severity = Literal["error", "security_warning", "warning", "suggestion"]

POLICY_KINDS: tuple[PolicyKind, ...] = (
    "identity",
    "resource",
    "trust",
    "scp",
    "boundary",
    "session",
    "key",
    "rcp",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a policy document: where (JSON path), how bad, what, a stable code and,
    where the message does not already say it, how to fix it."""

    severity: Severity
    path: str
    message: str
    code: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_json(self) -> dict[str, str]:
        out = {
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
            "code": self.code,
        }
        if self.fix:
            out["fix"] = self.fix
        return out


class PolicyValidationError(PolicyError):
    """A policy document has errors; ``findings`` lists every one of them (errors only)."""

    def __init__(self, findings: Sequence[Finding], *, where: str = "") -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        first = str(self.findings[0]) if self.findings else "invalid policy"
        more = len(self.findings) - 1
        prefix = f"{where}: " if where else ""
        suffix = f" (and {more} more; run `broker policy validate`)" if more > 0 else ""
        super().__init__(f"{prefix}{first}{suffix}")
