"""Every shared-state store over one database: what a `broker serve` replica opens at start.

``open_shared_state()`` connects to the configured database (``BROKER_DATABASE_URL`` or the
embedded SQLite), refuses a schema that is not current (run ``broker db upgrade``), and builds
each store on the one connection pool.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.storage.access_key_records import SqlAccessKeyRecords
from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import Database, open_database
from broker.storage.directory_runtime import SqlDirectoryRuntime
from broker.storage.key_set import SqlKeySet
from broker.storage.migrations import require_current
from broker.storage.replay import SqlReplayCache
from broker.storage.revocations import SqlRevocations
from broker.storage.session_policies import SqlSessionPolicies
from broker.storage.sts_mfa_devices import SqlStsMfaDevices
from broker.storage.url import DatabaseUrl

__all__ = ["SharedState", "open_shared_state"]


@dataclass(frozen=True)
class SharedState:
    """The stores of one replica, sharing ``database``; ``close`` releases it."""

    database: Database
    replay: SqlReplayCache
    revocations: SqlRevocations
    audit: SqlAuditLog
    keys: SqlKeySet
    access_keys: SqlAccessKeyRecords
    directory_runtime: SqlDirectoryRuntime
    session_policies: SqlSessionPolicies
    sts_mfa: SqlStsMfaDevices

    def close(self) -> None:
        self.database.close()


def open_shared_state(url: str | DatabaseUrl | None = None, *, pool_size: int = 8) -> SharedState:
    """Open the database and every store on it.

    Raises:
        ConfigError: unreachable database, or its schema is behind or ahead of this broker.
    """
    database = open_database(url, pool_size=pool_size)
    try:
        require_current(database)
    except BaseException:
        database.close()
        raise
    return SharedState(
        database=database,
        replay=SqlReplayCache(database),
        revocations=SqlRevocations(database),
        audit=SqlAuditLog(database),
        keys=SqlKeySet(database),
        access_keys=SqlAccessKeyRecords(database),
        directory_runtime=SqlDirectoryRuntime(database),
        session_policies=SqlSessionPolicies(database),
        sts_mfa=SqlStsMfaDevices(database),
    )
