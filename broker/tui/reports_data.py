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
    from broker.sts.state_handle import StateHandle

__all__ = [
    "CREDENTIAL_COLUMNS",
    "MFA_DEVICE_NOTE",
    "CredentialRow",
    "Finding",
    "LastAccessedView",
    "PrincipalKind",
    "analyze_target",
    "analyzer_targets",
    "credential_detail",
    "credential_rows",
    "last_accessed_view",
    "root_flag",
    "shape_credential_row",
]

PrincipalKind = Literal["user", "role", "permission-set"]

# The report's columns in the order people scan them. Cells are never cut: the table sizes each
# column to its content and scrolls sideways; the detail pane shows the selected row whole.
# ``MFA device`` is the directory's TOTP device (what IAM's ``mfa_active`` reports), not the
# ``amr`` claim an identity provider sends at sign-in; the header says so.
CREDENTIAL_COLUMNS = (
    "",
    "account",
    "user",
    "MFA device",
    "key 1",
    "key 1 used",
    "key 2",
    "last sign-in",
    "live",
)

MFA_DEVICE_NOTE = (
    "MFA device: a TOTP device registered in the broker's directory (IAM's mfa_active). "
    "Separate from sign-in MFA, which the identity provider reports in its amr claim."
)


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


def _account(row: Mapping[str, str]) -> str:
    """The account id from the row's ARN (``arn:aws:iam::<account>:...``)."""
    parts = row.get("arn", "").split(":")
    return parts[4] if len(parts) > 4 else ""


def _active(value: str) -> str:
    return "active" if value == "true" else "-"


def shape_credential_row(row: Mapping[str, str]) -> CredentialRow:
    """The cells of ``CREDENTIAL_COLUMNS`` (the flag cell is filled by the screen, which knows
    the glyph set). IAM names every root user ``<root_account>``; the account column tells
    them apart and the user cell says ``root``."""
    user = row["user"]
    return CredentialRow(
        root_flag(row),
        (
            "",
            _account(row),
            "root" if user == "<root_account>" else user,
            "yes" if row["mfa_active"] == "true" else "no",
            _active(row["access_key_1_active"]),
            row["access_key_1_last_used_date"],
            _active(row["access_key_2_active"]),
            row["last_sign_in"],
            row["active_sessions"],
        ),
    )


def credential_detail(row: Mapping[str, str]) -> list[str]:
    """The selected row whole, one fact per line, for the detail pane."""
    user = row["user"]
    who = "root user" if user == "<root_account>" else f"user {user}"
    lines = [
        f"{who} of account {_account(row)}  {row.get('arn', '')}",
        f"MFA device (directory TOTP): {'yes' if row.get('mfa_active') == 'true' else 'no'}"
        "  (sign-in MFA is the IdP's amr claim, not this)",
        f"password: {row.get('password_enabled', 'N/A')}, last used "
        f"{row.get('password_last_used', 'N/A')}; last sign-in {row.get('last_sign_in', 'N/A')}; "
        f"live sessions {row.get('active_sessions', '0')}",
    ]
    for key in ("1", "2"):
        prefix = f"access_key_{key}_"
        lines.append(
            f"key {key}: {_active(row.get(prefix + 'active', ''))}, rotated "
            f"{row.get(prefix + 'last_rotated', 'N/A')}, last used "
            f"{row.get(prefix + 'last_used_date', 'N/A')} in "
            f"{row.get(prefix + 'last_used_region', 'N/A')} by "
            f"{row.get(prefix + 'last_used_service', 'N/A')}"
        )
    return lines


def credential_rows(config_dir: Path, state: StateHandle) -> list[dict[str, str]]:
    """The credential report, exactly as ``broker report credentials`` prints it."""
    from broker.analyzer import deployment_reports

    return deployment_reports.credential_rows(config_dir, state)


def last_accessed_view(
    config_dir: Path, state: StateHandle, kind: PrincipalKind, name: str, days: int
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
    access = principal_access(kind, name.strip(), days, config_dir, state)
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


def analyzer_targets(config_dir: Path, state: StateHandle) -> tuple[Sequence[Target], Zone]:
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

    directory = load_directory(config_dir, state.state().shared.database)
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
