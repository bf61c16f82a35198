"""Shared server-side state in one database: SQLite embedded, PostgreSQL for replicas.

``open_database(url)`` gives a ``Database`` (``broker.storage.database``); the stores written
over it — replay cache, revocations, audit chain, key set, access key records, session
policies, the directory's snapshots and runtime state, service users' MFA devices — use the
same SQL and the same schema on both. ``BROKER_DATABASE_URL`` (or ``--database-url``) picks
PostgreSQL; without it the broker uses ``<data>/broker.db``. ``broker db upgrade`` applies the
migrations.

Names are imported lazily: psycopg is loaded only when a PostgreSQL URL is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from broker.storage.access_key_records import SqlAccessKeyRecords
    from broker.storage.audit_chain import SqlAuditLog
    from broker.storage.database import Database, open_database
    from broker.storage.directory_runtime import SqlDirectoryRuntime
    from broker.storage.directory_snapshots import SqlDirectorySnapshots
    from broker.storage.key_set import SqlKeySet
    from broker.storage.migrations import upgrade
    from broker.storage.replay import SqlReplayCache
    from broker.storage.revocations import SqlRevocations
    from broker.storage.session_policies import SqlSessionPolicies
    from broker.storage.shared_state import SharedState, open_shared_state
    from broker.storage.sts_mfa_devices import SqlStsMfaDevices
    from broker.storage.url import database_url

__all__ = [
    "Database",
    "SharedState",
    "SqlAccessKeyRecords",
    "SqlAuditLog",
    "SqlDirectoryRuntime",
    "SqlDirectorySnapshots",
    "SqlKeySet",
    "SqlReplayCache",
    "SqlRevocations",
    "SqlSessionPolicies",
    "SqlStsMfaDevices",
    "database_url",
    "open_database",
    "open_shared_state",
    "upgrade",
]

_HOMES = {
    "Database": "database",
    "SqlAccessKeyRecords": "access_key_records",
    "SqlAuditLog": "audit_chain",
    "SqlDirectoryRuntime": "directory_runtime",
    "SqlDirectorySnapshots": "directory_snapshots",
    "SqlKeySet": "key_set",
    "SqlReplayCache": "replay",
    "SqlRevocations": "revocations",
    "SqlSessionPolicies": "session_policies",
    "SqlStsMfaDevices": "sts_mfa_devices",
    "SharedState": "shared_state",
    "database_url": "url",
    "open_database": "database",
    "open_shared_state": "shared_state",
    "upgrade": "migrations",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'broker.storage' has no attribute {name!r}")
    return getattr(importlib.import_module(f"broker.storage.{home}"), name)
