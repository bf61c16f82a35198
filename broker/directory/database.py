"""The directory snapshot: its SQLite schema, built from the configuration, as stored.

A snapshot is the validated configuration flattened into the tables below. It is built in
memory, stored in the state database as one JSON document keyed by the configuration's
fingerprint (``broker.storage.directory_snapshots``), and queried in memory: each process
keeps a read-only SQLite image per fingerprint (``broker.directory.snapshot_cache``), so the
STS request path never reads the state database for a role, a trust policy or a permission
set. Runtime state (MFA devices, JIT users) is not part of a snapshot: it lives once in the
state database's own tables, shared by every replica and every snapshot.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any

from broker.directory.federation_tables import FEDERATION_SCHEMA, fill_federation
from broker.directory.model import DirectorySpec
from broker.directory.naming import parse_iso_duration
from broker.directory.policies import parse_document, read_policy
from broker.directory.source import Source
from broker.errors import DirectoryError

__all__ = [
    "SCHEMA_VERSION",
    "build_snapshot",
    "read_content",
    "snapshot_content",
]

SCHEMA_VERSION = "5"  # 5: stored in the state database; runtime tables live there on their own

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE policies (name TEXT PRIMARY KEY, document TEXT NOT NULL);
CREATE TABLE scps (name TEXT PRIMARY KEY, description TEXT NOT NULL, policy TEXT NOT NULL);
CREATE TABLE ous (name TEXT PRIMARY KEY, parent TEXT NOT NULL, tags TEXT NOT NULL);
-- target_type: root | ou | account; position keeps the configured order.
CREATE TABLE scp_attachments (
    target_type TEXT NOT NULL, target TEXT NOT NULL, scp TEXT NOT NULL, position INTEGER NOT NULL
);
CREATE INDEX scp_attachments_target ON scp_attachments (target_type, target);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, email TEXT NOT NULL, ou TEXT NOT NULL,
    tags TEXT NOT NULL, management INTEGER NOT NULL, root_mfa INTEGER NOT NULL,
    root_access_keys INTEGER NOT NULL
);
CREATE TABLE users (
    name TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, display_name TEXT NOT NULL,
    tags TEXT NOT NULL, service INTEGER NOT NULL
);
CREATE TABLE groups (name TEXT PRIMARY KEY, description TEXT NOT NULL);
-- Identity policies attached to a user or group (principal_type: user | group), in order.
CREATE TABLE principal_policies (
    principal_type TEXT NOT NULL, principal TEXT NOT NULL, policy TEXT NOT NULL,
    position INTEGER NOT NULL, PRIMARY KEY (principal_type, principal, position)
) WITHOUT ROWID;
CREATE TABLE memberships (
    user_name TEXT NOT NULL, group_name TEXT NOT NULL, PRIMARY KEY (user_name, group_name)
) WITHOUT ROWID;
CREATE INDEX memberships_group ON memberships (group_name);
CREATE TABLE permission_sets (
    name TEXT PRIMARY KEY, description TEXT NOT NULL, managed_policies TEXT NOT NULL,
    customer_policies TEXT NOT NULL, inline_policy TEXT, permissions_boundary TEXT,
    session_duration INTEGER NOT NULL, relay_state TEXT NOT NULL, tags TEXT NOT NULL
);
CREATE TABLE assignments (
    principal_type TEXT NOT NULL, principal TEXT NOT NULL, permission_set TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (principal_type, principal, permission_set, account_id)
) WITHOUT ROWID;
CREATE INDEX assignments_account ON assignments (account_id, permission_set);
CREATE TABLE roles (
    account_id TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, path TEXT NOT NULL,
    description TEXT NOT NULL, trust_policy TEXT NOT NULL, policies TEXT NOT NULL,
    permissions_boundary TEXT, max_session_duration INTEGER NOT NULL, tags TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE TABLE identity_mappings (provider TEXT PRIMARY KEY, mapping TEXT NOT NULL);
"""


def _j(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _policy_rows(spec: DirectorySpec, source: Source) -> list[tuple[str, str]]:
    names: set[str] = {scp.policy for scp in spec.scps.values()}
    for user in spec.users.values():
        names.update(user.policies)
    for group in spec.groups.values():
        names.update(group.policies)
    for ps in spec.permission_sets.values():
        names.update(ps.managed_policies, ps.customer_policies)
        if ps.permissions_boundary:
            names.add(ps.permissions_boundary)
    for role in spec.roles:
        names.update(role.policies)
        names.add(role.trust_policy)
        if role.permissions_boundary:
            names.add(role.permissions_boundary)
    rows = []
    for name in sorted(names):
        doc, why = read_policy(source.policies, name)
        if doc is None:
            raise DirectoryError(f"policy {name!r}: {why}; run `broker directory validate`")
        rows.append((name, _j(doc)))
    return rows


def _fill(conn: sqlite3.Connection, spec: DirectorySpec, source: Source, fp: str) -> None:
    """Insert every row of ``spec`` (policy documents read from ``source``)."""
    ids = {name: a.id for name, a in spec.accounts.items()}
    org = spec.organization
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("schema_version", SCHEMA_VERSION),
            ("fingerprint", fp),
            ("built_at", datetime.now(UTC).isoformat()),
            ("config_dir", str(source.config_dir)),
            *([("organization_id", org.id)] if org.id else []),
        ],
    )
    conn.executemany("INSERT INTO policies VALUES (?, ?)", _policy_rows(spec, source))
    conn.executemany(
        "INSERT INTO scps VALUES (?, ?, ?)",
        [(n, s.description, s.policy) for n, s in spec.scps.items()],
    )
    conn.executemany(
        "INSERT INTO ous VALUES (?, ?, ?)",
        [(n, ou.parent, _j(dict(ou.tags))) for n, ou in spec.ous.items()],
    )
    attachments = [("root", "root", s, i) for i, s in enumerate(org.scps)]
    attachments += [("ou", n, s, i) for n, ou in spec.ous.items() for i, s in enumerate(ou.scps)]
    attachments += [
        ("account", a.id, s, i) for a in spec.accounts.values() for i, s in enumerate(a.scps)
    ]
    conn.executemany("INSERT INTO scp_attachments VALUES (?, ?, ?, ?)", attachments)
    conn.executemany(
        "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                a.id,
                n,
                a.email,
                a.ou,
                _j(dict(a.tags)),
                n == org.management_account,
                a.root_user.mfa,
                a.root_user.access_keys,
            )
            for n, a in spec.accounts.items()
        ],
    )
    conn.executemany(
        "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
        [(n, u.email, u.display_name, _j(dict(u.tags)), u.service) for n, u in spec.users.items()],
    )
    conn.executemany(
        "INSERT INTO groups VALUES (?, ?)", [(n, g.description) for n, g in spec.groups.items()]
    )
    conn.executemany(
        "INSERT INTO principal_policies VALUES (?, ?, ?, ?)",
        [
            *((("user", n, p, i) for n, u in spec.users.items() for i, p in enumerate(u.policies))),
            *(
                (
                    ("group", n, p, i)
                    for n, g in spec.groups.items()
                    for i, p in enumerate(g.policies)
                )
            ),
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO memberships VALUES (?, ?)",
        [(m, n) for n, g in spec.groups.items() for m in g.members],
    )
    conn.executemany(
        "INSERT INTO permission_sets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                n,
                ps.description,
                _j(list(ps.managed_policies)),
                _j(list(ps.customer_policies)),
                _j(parse_document(ps.inline_policy)[0]) if ps.inline_policy else None,
                ps.permissions_boundary,
                parse_iso_duration(ps.session_duration),
                ps.relay_state,
                _j(dict(ps.tags)),
            )
            for n, ps in spec.permission_sets.items()
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO assignments VALUES (?, ?, ?, ?)",
        [
            (
                "user" if a.user else "group",
                a.user or a.group,
                a.permission_set,
                ids.get(ref, ref),
            )
            for a in spec.assignments
            for ref in a.accounts
        ],
    )
    conn.executemany(
        "INSERT INTO roles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                ids.get(r.account, r.account),
                r.name,
                r.path,
                r.description,
                r.trust_policy,
                _j(list(r.policies)),
                r.permissions_boundary,
                r.max_session_duration,
                _j(dict(r.tags)),
            )
            for r in spec.roles
        ],
    )
    conn.executemany(
        "INSERT INTO identity_mappings VALUES (?, ?)",
        [
            (
                p,
                _j(
                    {
                        "user_claim": m.user_claim,
                        "match_on": m.match_on,
                        "groups_claim": m.groups_claim,
                        "group_map": dict(m.group_map),
                        "unknown_users": m.unknown_users,
                        "principal_tags": dict(m.principal_tags),
                    }
                ),
            )
            for p, m in spec.identity.items()
        ],
    )
    fill_federation(conn, spec, source, ids)


_SNAPSHOT_SCHEMA = SCHEMA + FEDERATION_SCHEMA


def _empty() -> sqlite3.Connection:
    """An in-memory database with the snapshot's tables (shared by the TUI's worker threads)."""
    conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    conn.executescript(_SNAPSHOT_SCHEMA)
    return conn


def _tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid"
    ).fetchall()
    return [str(row[0]) for row in rows]


def build_snapshot(spec: DirectorySpec, source: Source, fp: str) -> sqlite3.Connection:
    """The snapshot of a validated ``spec`` as an in-memory database.

    Raises:
        DirectoryError: a policy or SAML metadata file went unreadable after validation.
    """
    conn = _empty()
    try:
        conn.execute("BEGIN")
        _fill(conn, spec, source, fp)
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


def snapshot_content(conn: sqlite3.Connection) -> str:
    """The snapshot as the one JSON document the state database stores."""
    tables = {
        name: [list(row) for row in conn.execute(f"SELECT * FROM {name}")]  # noqa: S608
        for name in _tables(conn)
    }
    return json.dumps({"schema_version": SCHEMA_VERSION, "tables": tables}, separators=(",", ":"))


def read_content(content: str, fp: str) -> sqlite3.Connection:
    """An in-memory database holding the stored snapshot ``content`` of fingerprint ``fp``.

    Raises:
        DirectoryError: the stored document is not a whole snapshot of ``fp`` in this layout
            (nothing of it is used).
    """
    conn = _empty()
    try:
        data = json.loads(content)
        tables = data["tables"]
        if data["schema_version"] != SCHEMA_VERSION or set(tables) != set(_tables(conn)):
            raise ValueError("not this layout")
        conn.execute("BEGIN")
        for name in _tables(conn):
            rows = tables[name]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ValueError("a table is not a list of rows")
            width = len(conn.execute(f"PRAGMA table_info({name})").fetchall())
            marks = ",".join("?" * width)
            # A row of another width is refused by SQLite (ProgrammingError).
            conn.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)  # noqa: S608
        conn.execute("COMMIT")
        stored = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if stored.get("fingerprint") != fp or stored.get("schema_version") != SCHEMA_VERSION:
            raise ValueError("another configuration's snapshot")
    except (ValueError, KeyError, TypeError, OverflowError, sqlite3.Error):
        conn.close()
        raise DirectoryError(
            f"the directory snapshot stored for this configuration ({fp[:12]}) is damaged; "
            f"drop it with `broker directory snapshots drop {fp[:12]}` and retry (the next "
            "load rebuilds it from the files)"
        ) from None
    return conn
