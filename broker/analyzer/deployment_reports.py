"""The governance reports over one deployment: its directory and its shared state, read once.

The one place both front ends get their answers from (``broker report`` and the TUI's Reports
view), so the command line and the screen cannot disagree, and the one place that decides
where state is read (``report_state``): the shared database with ``BROKER_DATABASE_URL``,
whichever replica host runs the report, else the data directory.

Facts are matched to report rows by exact principal: a directory user is
``arn:aws:iam::<management>:user/<name>``, so an access key or MFA device of a same-named user
in another account belongs to another principal and has a row of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from broker.analyzer.last_accessed import LastAccessed
from broker.errors import UsageError

if TYPE_CHECKING:
    from broker.sts.state_handle import StateHandle

__all__ = ["PrincipalAccess", "credential_rows", "principal_access"]


def credential_rows(
    config_dir: Path, state: StateHandle, now: datetime | None = None
) -> list[dict[str, str]]:
    """IAM's credential report: every account's root user, every directory user, then every
    other IAM user holding access keys or an STS virtual MFA device (a service user).

    Raises:
        InvalidDirectoryError, ConfigError, AuditError: as ``load_directory`` and
            ``report_state`` do.
    """
    from broker.analyzer.credential_report import KeyFacts, credential_report
    from broker.analyzer.directory_facts import root_facts, user_facts
    from broker.analyzer.report_state import report_state
    from broker.directory import load_directory

    deployment = report_state(state)
    directory = load_directory(config_dir, state.state().shared.database)
    try:
        sts_mfa = deployment.sts_mfa_principals()
        users = user_facts(directory, sts_mfa)
        roots = root_facts(directory)
    finally:
        directory.close()
    keys = [
        KeyFacts(k.access_key_id, k.user, k.status == "Active", k.created, k.account)
        for k in deployment.access_keys()
    ]
    when = now or datetime.now(UTC)
    return credential_report(users, roots, keys, deployment.events(), when, sts_mfa)


@dataclass(frozen=True)
class PrincipalAccess:
    """Last accessed for one principal, and (for roles) when a session of it was last minted."""

    report: LastAccessed
    last_assumed: datetime | None
    is_user: bool


def principal_access(
    kind: str,
    name: str,
    days: int,
    config_dir: Path,
    state: StateHandle,
    now: datetime | None = None,
) -> PrincipalAccess:
    """When ``name`` (a user, role or permission set) last used each granted service.

    Raises:
        UsageError: ``days`` below 1. DirectoryError: no such principal.
    """
    from broker.analyzer.directory_facts import known_services, principal_policies
    from broker.analyzer.last_accessed import last_accessed
    from broker.analyzer.principal_events import principal_events
    from broker.analyzer.report_state import report_state
    from broker.directory import load_directory

    if days < 1:
        raise UsageError("--days must be at least 1")
    directory = load_directory(config_dir, state.state().shared.database)
    try:
        principal, documents = principal_policies(directory, kind, name)
        known = known_services(directory)
    finally:
        directory.close()
    own = principal_events(report_state(state).events(), principal)
    report = last_accessed(documents, own.events, known, now or datetime.now(UTC), days)
    return PrincipalAccess(report, own.last_assumed, principal.kind == "user")
