"""What the Reports view shows, computed from the governance core (``broker.analyzer``) for one
configuration and data directory: the credential report's rows, a principal's last-accessed
services with the narrower policy, and the analyzer's answer per directory role.

No Textual here: ``Services`` delegates to these functions from the screen's workers, and the
row shaping (which columns fit at 80 columns, which root rows to flag) is plain and testable.
The analyzer is split into ``analyzer_targets`` and ``analyze_target`` so the worker can stop
between roles when ``esc`` cancels it (one z3 query cannot be interrupted from outside).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from broker.errors import UsageError

if TYPE_CHECKING:
    from broker.analyzer.targets import Target, Zone

__all__ = [
    "CREDENTIAL_COLUMNS",
    "CredentialRow",
    "Finding",
    "LastAccessedView",
    "PrincipalKind",
    "analyze_target",
    "analyzer_targets",
    "credential_rows",
    "last_accessed_view",
    "root_flag",
    "shape_credential_row",
]

PrincipalKind = Literal["user", "role", "permission-set"]

# The IAM columns that fit at 80 columns, in the order people scan them.
CREDENTIAL_COLUMNS = ("", "user", "mfa", "key 1", "key 1 used", "key 2", "last sign-in", "live")


@dataclass(frozen=True)
class CredentialRow:
    """One shaped report row: ``flag`` is empty or a word naming the root user's risk."""

    flag: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class LastAccessedView:
    principal: str
    last_assumed: str | None
    services: tuple[tuple[str, str, bool], ...]  # (service, last used or "never", unused)
    suggested_policy: str  # pretty JSON, or "" when nothing stays granted
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """The analyzer's answer for one role: status and, per finding, the witness request."""

    name: str
    account: str
    resource: str
    status: str  # external | none | undecided
    witnesses: tuple[str, ...]
    reasons: tuple[str, ...]


def root_flag(row: Mapping[str, str]) -> str:
    """``root keys``, ``no MFA``, both, or empty: the two things IAM says a root user must not
    have (access keys) or lack (MFA)."""
    if row.get("user") != "<root_account>":
        return ""
    words = []
    if "true" in (row.get("access_key_1_active"), row.get("access_key_2_active")):
        words.append("root keys")
    if row.get("mfa_active") != "true":
        words.append("no MFA")
    return ", ".join(words)


def _short(value: str, width: int) -> str:
    return value[:width] if value[:1].isdigit() else value


def shape_credential_row(row: Mapping[str, str]) -> CredentialRow:
    """The columns of ``CREDENTIAL_COLUMNS`` (the flag cell is filled by the screen, which
    knows the glyph set); a root row names its account, as IAM's ``<root_account>`` does not."""
    user = row["user"]
    if user == "<root_account>":
        user = f"root {row['arn'].split(':')[4]}"
    return CredentialRow(
        root_flag(row),
        (
            "",
            user,
            "yes" if row["mfa_active"] == "true" else "no",
            "active" if row["access_key_1_active"] == "true" else "-",
            _short(row["access_key_1_last_used_date"], 10),
            "active" if row["access_key_2_active"] == "true" else "-",
            _short(row["last_sign_in"], 16),
            row["active_sessions"],
        ),
    )


def credential_rows(config_dir: Path, data_dir: Path) -> list[dict[str, str]]:
    """The credential report, exactly as ``broker report credentials`` prints it."""
    from broker.analyzer import deployment_reports

    return deployment_reports.credential_rows(config_dir, data_dir)


def last_accessed_view(
    config_dir: Path, data_dir: Path, kind: PrincipalKind, name: str, days: int
) -> LastAccessedView:
    """When ``name`` last used each granted service, as ``broker report last-accessed``.

    Raises:
        UsageError: ``days`` below 1 or no name. DirectoryError: no such principal.
    """
    from broker.analyzer.deployment_reports import principal_access

    if days < 1:
        raise UsageError("days must be at least 1")
    if not name.strip():
        raise UsageError(f"give the {kind}'s name, then press enter")
    access = principal_access(kind, name.strip(), days, config_dir, data_dir)
    report = access.report
    assumed = access.last_assumed.isoformat(timespec="seconds") if access.last_assumed else None
    policy = report.suggested_policy
    return LastAccessedView(
        principal=f"{kind} {name.strip()}",
        last_assumed=assumed,
        services=tuple(
            (
                use.service,
                use.last_used.isoformat(timespec="seconds") if use.last_used else "never",
                use.unused,
            )
            for use in report.services
        ),
        suggested_policy=json.dumps(policy, indent=2) if policy is not None else "",
        notes=tuple(report.notes),
    )


def analyzer_targets(config_dir: Path, data_dir: Path) -> tuple[Sequence[Target], Zone]:
    """Every directory role's trust policy, and the organization as the zone of trust.

    Raises:
        ConfigError: z3-solver is not installed.
    """
    from broker.errors import ConfigError

    try:
        import z3  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the analyzer needs z3-solver: install it with `pip install z3-solver`"
        ) from None
    from broker.analyzer.configured import (
        directory_targets,
        organization_accounts,
        organization_id,
    )
    from broker.analyzer.targets import Zone
    from broker.directory import load_directory

    directory = load_directory(config_dir, data_dir=data_dir)
    try:
        targets = directory_targets(directory)
        accounts = organization_accounts(directory)
        org_id = organization_id(directory)
    finally:
        directory.close()
    return targets, Zone("organization", accounts, org_id)


def analyze_target(target: Target, zone: Zone) -> Finding:
    """One role's answer, with each witness as one readable line."""
    from broker.analyzer.external import analyze

    result = analyze(target, zone)
    witnesses = []
    for witness in result.witnesses:
        w = witness.to_json()
        witnesses.append(
            f"{w['principal_kind']} {w['principal']} may {w['action']} on {w['resource']}"
            f" with context {json.dumps(w['context'])}"
        )
    return Finding(
        name=target.name,
        account=target.account,
        resource=target.resource,
        status=result.status,
        witnesses=tuple(witnesses),
        reasons=tuple(result.reasons),
    )
