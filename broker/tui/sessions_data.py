"""The Sessions view's rows: cached profiles from the store's index (no keyring, no secrets).

No Textual here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from broker.errors import ConfigError, DirectoryError
from broker.tui.features import feature_available, load_feature
from broker.tui.model import SessionRow

__all__ = ["role_label", "session_rows"]


def role_label(index: Any, profile: str, role: str) -> str:
    assignment = index.assignments.get(profile)
    if assignment is not None and assignment.role == role and assignment.permission_set:
        return str(assignment.permission_set)
    return role


def _account_names(config_dir: Path, data_dir: Path) -> dict[str, str]:
    """Account id -> name from the directory, or nothing where there is no usable directory."""
    if not feature_available("directory"):
        return {}
    load_directory = load_feature("directory")
    try:
        directory = load_directory(config_dir, data_dir=data_dir)
    except (ConfigError, DirectoryError):
        return {}  # the Directory view reports what is wrong with it; sessions still show
    try:
        return {account.id: account.name for account in directory.accounts()}
    finally:
        directory.close()


def session_rows(config_dir: Path, data_dir: Path) -> list[SessionRow]:
    """Every cached profile, from the store's index (no secrets, no keyring read).

    Account names come from the directory where it knows the account (a machine with only
    ``[profiles]`` tables and no directory shows account ids); an assignment profile shows its
    permission set (as the portal does), not the ``AWSReservedSSO_…`` role.
    """
    load_feature("sessions")
    from broker.store.index import IndexFile

    index = IndexFile(data_dir / "store").read()
    names = _account_names(config_dir, data_dir) if index.profiles else {}
    return [
        SessionRow(
            profile=row.profile,
            account_id=row.account,
            account_name=names.get(row.account, row.account),
            role_name=role_label(index, row.profile, row.role),
            expiration=row.expiration,
            refreshable=row.provider in index.sessions,
        )
        for row in index.profiles.values()
    ]
