"""Where the reports read the deployment's state: the same one state ``broker serve`` writes.

That is the state database (access key records, the audit chain, service users' MFA devices):
the configured one (PostgreSQL shared by replicas), so every replica host prints the same
report whatever its data directory holds, else the data directory's embedded SQLite. The
directory's snapshot and runtime state (its TOTP devices) are read from the same database.

Reading creates no key ring. Opening the state moves files of the old layout into the database
first (``broker.sts.legacy_files``), so a report never disagrees with what the STS on this
host will accept.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from broker.storage.access_key_records import AccessKeyRecord

if TYPE_CHECKING:
    from broker.storage.database import Database
    from broker.storage.shared_state import SharedState
    from broker.sts.state_handle import StateHandle

__all__ = ["ReportState", "report_state"]


class ReportState:
    """One deployment's keys, MFA devices and audit events, read on demand."""

    def __init__(self, shared: SharedState) -> None:
        self._shared = shared

    @property
    def database(self) -> Database:
        """The state database (the directory's snapshot and runtime state are read there)."""
        return self._shared.database

    def access_keys(self) -> list[AccessKeyRecord]:
        """Every long-term access key's record (no secrets)."""
        return self._shared.access_keys.all()

    def sts_mfa_principals(self) -> frozenset[tuple[str, str]]:
        """``(account, user)`` of every enabled virtual MFA device (a device belongs to one
        principal: a user in one account)."""
        return frozenset((d.account, d.user) for d in self._shared.sts_mfa.all())

    def events(self) -> Iterator[Mapping[str, Any]]:
        """Every audit event, oldest first."""
        yield from self._shared.audit.records()


def report_state(state: StateHandle) -> ReportState:
    """The state of this deployment, as the front end's handle opens it (and later closes it).

    Raises:
        ConfigError: the database is unreachable or its schema is not current (run
            ``broker db upgrade``), or an old state file cannot be moved into it.
    """
    return ReportState(state.state().shared)
