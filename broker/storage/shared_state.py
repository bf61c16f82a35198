"""Every server-side store over one database: what each front end opens once and passes down.

``open_shared_state(url)`` connects to the database the front end chose (PostgreSQL for
replicas, else the embedded SQLite of the data directory), brings the embedded one up to date
and refuses a PostgreSQL schema that is not current (run ``broker db upgrade``), and builds
each store on the one connection pool. There is no other home for server-side state.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.storage.access_key_records import SqlAccessKeyRecords
from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import Database, open_database
from broker.storage.directory_runtime import SqlDirectoryRuntime
from broker.storage.key_set import SqlKeySet
from broker.storage.migrations import require_current, upgrade
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


def open_shared_state(
    url: DatabaseUrl, *, pool_size: int = 8, durable_commits: bool = True
) -> SharedState:
    """Open the database and every store on it.

    Raises:
        ConfigError: unreachable database, or its schema is behind or ahead of this broker.
    """
    database = open_database(url, pool_size=pool_size, durable_commits=durable_commits)
    try:
        if url.dialect == "sqlite":
            upgrade(database)  # the embedded database is this broker's own: always current
        else:
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
