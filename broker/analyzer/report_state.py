"""Where the reports read the deployment's state: the same stores ``broker serve`` writes.

With ``BROKER_DATABASE_URL`` that is the shared database (access key records, the audit chain,
service users' MFA devices), so every replica host prints the same report whatever its data
directory holds. Without it, the embedded default: the data directory's access-key file and
audit log, and its ``broker.db`` for MFA devices. The directory's own runtime state (its TOTP
devices) is chosen by ``load_directory`` the same way.

Reading never creates state: no key ring, no database file where none exists. The one write
is the documented one of every device-store opener: an old ``<data>/sts/mfa-devices.json`` is
moved into the database first (``broker.sts.mfa.import_device_file``), so a report never
disagrees with what the STS on this host will accept.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broker.storage.access_key_records import AccessKeyRecord

if TYPE_CHECKING:
    from broker.storage.database import Database

__all__ = ["ReportState", "open_report_state"]


class ReportState:
    """One deployment's keys, MFA devices and audit events, read on demand.

    ``database`` is the shared-state database when one is in use (always with a URL; in the
    embedded default only when ``<data>/broker.db`` exists), else ``None``.
    """

    def __init__(self, data: Path, database: Database | None, *, shared: bool) -> None:
        self._data = data
        self._db = database
        self._shared = shared

    def access_keys(self) -> list[AccessKeyRecord]:
        """Every long-term access key's record (no secrets)."""
        if self._shared:
            from broker.storage.access_key_records import SqlAccessKeyRecords

            assert self._db is not None
            return SqlAccessKeyRecords(self._db).all()
        from broker.sts.access_keys import read_access_keys

        return [
            AccessKeyRecord(k.access_key_id, k.user, k.account, k.status, k.created)
            for k in read_access_keys(self._data / "sts" / "access-keys.json")
        ]

    def sts_mfa_principals(self) -> frozenset[tuple[str, str]]:
        """``(account, user)`` of every enabled virtual MFA device (a device belongs to one
        account's user: the caller matches both)."""
        if self._db is None:
            return frozenset()
        from broker.storage.sts_mfa_devices import SqlStsMfaDevices

        return frozenset((d.account, d.user) for d in SqlStsMfaDevices(self._db).all())

    def events(self) -> Iterator[Mapping[str, Any]]:
        """Every audit event, oldest first (the database chain, or the data directory's log)."""
        if self._shared:
            from broker.storage.audit_chain import SqlAuditLog

            assert self._db is not None
            yield from SqlAuditLog(self._db).records()
            return
        from broker.audit import AuditLog

        yield from AuditLog(self._data / "audit" / "audit.jsonl").events()


def _import_old_devices(database: Database, data: Path) -> None:
    from broker.storage.sts_mfa_devices import SqlStsMfaDevices
    from broker.sts.mfa import DEVICE_FILE, import_device_file

    import_device_file(SqlStsMfaDevices(database), data / "sts" / DEVICE_FILE)


@contextmanager
def open_report_state(data_dir: Path | None = None) -> Iterator[ReportState]:
    """The state of this deployment (``data_dir`` defaults to the data directory).

    Raises:
        ConfigError: the database is unreachable or its schema is not current (run
            ``broker db upgrade``), or an old MFA device file is not private or not valid.
        AuditError: the audit log cannot be read (the access-key file: ConfigError).
    """
    from broker.storage.migrations import open_current
    from broker.storage.url import DatabaseUrl

    if data_dir is None:
        from broker.config.loader import data_dir as default_data_dir

        data_dir = default_data_dir()
    url = os.environ.get("BROKER_DATABASE_URL")
    database: Database | None = None
    if url:  # refused unless current (PostgreSQL), as every replica's opener does
        database = open_current(url, pool_size=1)
    elif (data_dir / "broker.db").exists() or (data_dir / "sts" / "mfa-devices.json").exists():
        path = (data_dir / "broker.db").absolute()
        database = open_current(DatabaseUrl("sqlite", f"sqlite://{path}"), pool_size=1)
    try:
        if database is not None:
            _import_old_devices(database, data_dir)
        yield ReportState(data_dir, database, shared=bool(url))
    finally:
        if database is not None:
            database.close()
