"""The policy grammar (IAM User Guide, "IAM JSON policy element reference" and "Grammar of
the IAM JSON policy language"): parse a document, report every problem at once, and compile it.

A ``Policy`` is immutable and already compiled: each statement holds its action and resource
matchers, its principal and its condition tests, so evaluation does no parsing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from broker.policy.findings import POLICY_KINDS, Finding, PolicyKind, PolicyValidationError
from broker.policy.limits import may_hold_bad_characters, size_problem, text_problem
from broker.policy.statements import Statement, parse_statement

__all__ = ["Policy", "parse_policy", "validate_policy"]

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_KEYS = ("Version", "Id", "Statement")


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed, validated and compiled policy document of one kind."""

    kind: PolicyKind
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]
    name: str = ""  # where it came from (file, directory entry), for explanations


def _load(doc: Mapping[str, Any] | str, findings: list[Finding]) -> Any:
    if not isinstance(doc, str):
        return doc

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                findings.append(
                    Finding("error", "", f'duplicate key "{key}" in a JSON object', "duplicate_key")
                )
            seen[key] = value
        return seen

    try:
        return json.loads(doc, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        findings.append(
            Finding("error", "", f"not valid JSON: {exc.msg} (line {exc.lineno})", "invalid_json")
        )
        return None
    except RecursionError:  # the parser recurses once per level of nesting
        findings.append(Finding("error", "", "not valid JSON: nested too deeply", "invalid_json"))
        return None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        findings.append(
            Finding("error", "", "not valid JSON: a number has too many digits", "invalid_json")
        )
        return None


def _check(
    doc: Mapping[str, Any] | str, kind: PolicyKind, name: str
) -> tuple[list[Finding], Policy | None]:
    findings: list[Finding] = []
    if kind not in POLICY_KINDS:
        raise ValueError(f"unknown policy kind {kind!r}")
    too_large = size_problem(doc, kind)
    if too_large is not None:  # before any parsing: an absurd document is refused at once
        findings.append(Finding("error", "", too_large, "policy_too_large"))
        return findings, None
    data = _load(doc, findings)
    if data is None:
        return findings, None
    if not isinstance(doc, str) or may_hold_bad_characters(doc):
        bad_text = text_problem(data)
        if bad_text is not None:
            findings.append(Finding("error", "", f"{bad_text}; remove it", "invalid_character"))
            return findings, None
    if not isinstance(data, Mapping):
        findings.append(Finding("error", "", "a policy must be a JSON object", "invalid_type"))
        return findings, None
    for key in data:
        if key not in _TOP_KEYS:
            findings.append(
                Finding("error", key, f'unknown top-level element "{key}"', "unknown_key")
            )
    version = data.get("Version")
    if version is None:
        findings.append(
            Finding(
                "warning",
                "Version",
                'no Version: IAM reads the policy as "2008-10-17", where policy variables are '
                'plain text; add "Version": "2012-10-17"',
                "missing_version",
            )
        )
    elif version not in VERSIONS:
        findings.append(
            Finding(
                "error",
                "Version",
                f'"{version}" is not a policy language version; use "2012-10-17"',
                "invalid_version",
            )
        )
    substitute = version == "2012-10-17"
    policy_id = data.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        findings.append(Finding("error", "Id", "Id must be a string", "invalid_type"))
    raw_statements = data.get("Statement")
    if raw_statements is None:
        findings.append(Finding("error", "Statement", "missing Statement", "missing_element"))
        return findings, None
    as_list = isinstance(raw_statements, list)
    items = raw_statements if as_list else [raw_statements]
    if not items:
        findings.append(Finding("error", "Statement", "Statement is empty", "missing_element"))
    statements: list[Statement] = []
    sids: set[str] = set()
    for index, raw in enumerate(items):
        path = f"Statement[{index}]" if as_list else "Statement"
        sid = raw.get("Sid") if isinstance(raw, Mapping) else None
        if isinstance(sid, str) and sid:
            if sid in sids:
                findings.append(
                    Finding("error", f"{path}.Sid", f'duplicate Sid "{sid}"', "duplicate_sid")
                )
            sids.add(sid)
        if not substitute and "${" in json.dumps(raw):
            findings.append(
                Finding(
                    "warning",
                    path,
                    "contains ${...} but policy variables are only substituted under "
                    '"Version": "2012-10-17"; here they are plain text',
                    "variables_not_substituted",
                )
            )
        statement = parse_statement(raw, index, path, kind, substitute, findings)
        if statement is not None:
            statements.append(statement)
    if any(f.severity == "error" for f in findings):
        return findings, None
    return findings, Policy(
        kind=kind,
        version=version if isinstance(version, str) else None,
        id=policy_id if isinstance(policy_id, str) else None,
        statements=tuple(statements),
        name=name,
    )


def validate_policy(
    doc: Mapping[str, Any] | str, *, kind: PolicyKind = "identity"
) -> list[Finding]:
    """Every finding for ``doc`` as a ``kind`` policy: errors, security warnings, warnings,
    suggestions (IAM Access Analyzer's categories), in document order."""
    return _check(doc, kind, "")[0]


def parse_policy(
    doc: Mapping[str, Any] | str, *, kind: PolicyKind = "identity", name: str = ""
) -> Policy:
    """Parse and compile ``doc``; raises ``PolicyValidationError`` listing every error."""
    findings, policy = _check(doc, kind, name)
    if policy is None:
        raise PolicyValidationError(
            [f for f in findings if f.severity == "error"], where=name or f"{kind} policy"
        )
    return policy
