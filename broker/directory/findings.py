"""Findings about a directory configuration, and the context every rule reports through.

Each finding names the file, the key and the fix. ``error`` findings make the directory
unusable (exit 1, nothing is loaded); ``warning`` findings are reported (a root user without
MFA, a duplicated assignment) but do not block loading.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from broker.config import ConfigIssue
from broker.directory.model import DirectorySpec
from broker.directory.policies import check_policy, read_policy
from broker.directory.source import UNREADABLE, Source

if TYPE_CHECKING:
    from broker.policy import PolicyKind

__all__ = ["Finding", "RuleContext", "from_config_issue"]

_TAG_KEY = re.compile(r"[\w .:/=+\-@]{1,128}")


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in the directory configuration."""

    file: str
    key: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.severity}: {self.message}"


def _allows(doc: Mapping[str, Any] | None) -> bool:
    """Whether a policy document has at least one Allow statement."""
    if doc is None:
        return True  # reported as missing elsewhere
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return any(isinstance(s, dict) and s.get("Effect") == "Allow" for s in statements)


def from_config_issue(issue: ConfigIssue) -> Finding:
    return Finding(issue.file, issue.key, issue.message)


class _Anything:
    def __contains__(self, _item: object) -> bool:
        return True


class RuleContext:
    """The spec being checked, the names that exist, and how rules report findings."""

    def __init__(self, spec: DirectorySpec, source: Source, broken: Mapping[str, set[str]]) -> None:
        self.spec = spec
        self.source = source
        # Names that exist, including entries whose own table failed to parse (already
        # reported), so references to them do not produce a second, misleading error.
        # A section whose file is unreadable knows every name.
        self.names: dict[str, Container[str]] = {
            section: (
                _Anything()
                if UNREADABLE in broken.get(section, ())
                else set(getattr(spec, section)) | set(broken.get(section, ()))
            )
            for section in ("users", "groups", "ous", "scps", "permission_sets", "accounts")
        }
        self.findings: list[Finding] = []
        self._policy_cache: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.account_ids = {a.id: name for name, a in spec.accounts.items()}

    def error(self, section: str, key: str, message: str) -> None:
        self.findings.append(Finding(self.source.file(section), key, message))

    def warn(self, section: str, key: str, message: str) -> None:
        self.findings.append(Finding(self.source.file(section), key, message, "warning"))

    def account_ref(self, ref: str) -> bool:
        return ref in self.names["accounts"] or ref in self.account_ids

    def policy(self, section: str, key: str, name: str, kind: PolicyKind) -> None:
        """Report a missing or invalid policy file ``name`` used at ``key``."""
        cached = self._policy_cache.get((name, kind))
        if cached is None:
            doc, why = read_policy(self.source.policies, name)
            if doc is None:
                cached = [("error", f"policy {name!r}: {why}; create policies/{name}.json")]
            else:
                cached = self._document_problems(f"policies/{name}.json", doc, kind)
            self._policy_cache[(name, kind)] = cached
        for severity, message in cached:
            (self.error if severity == "error" else self.warn)(section, key, message)

    @staticmethod
    def _document_problems(
        label: str, doc: Mapping[str, Any], kind: PolicyKind
    ) -> list[tuple[str, str]]:
        out = []
        for problem in check_policy(doc, kind):
            # The engine's errors block; its security warnings and warnings are reported;
            # suggestions are left to `broker policy validate`.
            if problem.severity == "error":
                out.append(("error", f"{label} {problem.path}: {problem.message}"))
            elif problem.severity in ("security_warning", "warning"):
                out.append(("warning", f"{label} {problem.path}: {problem.message}"))
        return out

    def scp_refs(self, section: str, key: str, names: Iterable[str]) -> None:
        names = list(names)
        for name in names:
            if name not in self.names["scps"]:
                self.error(section, key, f"unknown SCP {name!r}; define it under [scps.{name}]")
        known = [self.spec.scps[n].policy for n in names if n in self.spec.scps]
        if known and not any(_allows(read_policy(self.source.policies, p)[0]) for p in known):
            self.warn(
                section,
                key,
                "these SCPs allow nothing, so every action beneath is denied; add FullAWSAccess",
            )

    def tags(self, section: str, key: str, tags: Mapping[str, str]) -> None:
        """IAM's tag rules: keys 1-128 characters, not ``aws:``; values up to 256; 50 tags."""
        for tag, value in tags.items():
            if not _TAG_KEY.fullmatch(tag) or tag.lower().startswith("aws:"):
                self.error(section, f"{key}.{tag}", "invalid tag key (1-128 chars, not 'aws:')")
            elif len(value) > 256:
                self.error(section, f"{key}.{tag}", "tag values are at most 256 characters")
        if len(tags) > 50:
            self.error(section, key, f"{len(tags)} tags; IAM allows at most 50")
