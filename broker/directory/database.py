"""The loaded directory's SQLite database: schema, atomic rebuild, runtime state carried over.

The database is a cache of the configuration (plus a little runtime state), rebuilt whenever
the configuration's fingerprint changes. A rebuild writes a new file beside the old one under
an exclusive ``flock`` and renames it into place only once it is complete and fsynced, so a
crash or a bad config never replaces a good database with a half-written one.

Runtime tables (``mfa_devices``, ``access_keys``, ``jit_users``) are not in the configuration:
they are copied from the old database into each new one. They hold metadata and hashes only;
TOTP secrets live in the OS keyring.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from broker.directory.federation_tables import FEDERATION_SCHEMA, fill_federation
from broker.directory.model import DirectorySpec
from broker.directory.naming import parse_iso_duration
from broker.directory.policies import parse_document, read_policy
from broker.directory.source import Source
from broker.errors import DirectoryError
from broker.private_dirs import make_private_dirs

__all__ = [
    "RUNTIME_TABLES",
    "SCHEMA_VERSION",
    "build_database",
    "database_path",
    "exclusive_lock",
    "open_database",
    "stored_fingerprint",
]

SCHEMA_VERSION = "4"  # 4: meta holds the organization id

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
-- Runtime state (carried across rebuilds). No secrets: TOTP seeds are in the OS keyring,
-- access keys are stored as a hash of the secret (the STS's access-key store owns them).
CREATE TABLE mfa_devices (
    user_name TEXT NOT NULL, device TEXT NOT NULL, kind TEXT NOT NULL, created_at TEXT NOT NULL,
    last_step INTEGER, PRIMARY KEY (user_name, device)
);
CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY, user_name TEXT NOT NULL, secret_hash TEXT NOT NULL,
    status TEXT NOT NULL, created_at TEXT NOT NULL, last_used_at TEXT
);
CREATE TABLE jit_users (
    provider TEXT NOT NULL, subject TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL,
    first_seen TEXT NOT NULL, PRIMARY KEY (provider, subject)
);
"""

RUNTIME_TABLES = ("mfa_devices", "access_keys", "jit_users")


def database_path(data_dir: Path) -> Path:
    return data_dir / "directory.sqlite"


@contextlib.contextmanager
def exclusive_lock(data_dir: Path, timeout: float = 60.0) -> Iterator[None]:
    """One writer at a time across processes; the kernel releases it if the holder dies.

    Raises:
        DirectoryError: another process held the lock for ``timeout`` seconds.
    """
    make_private_dirs(data_dir)
    fd = os.open(data_dir / "directory.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise DirectoryError(
                        f"another broker process has held {data_dir}/directory.lock for "
                        f"{timeout:.0f} s; retry when it finishes"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def open_database(path: Path) -> sqlite3.Connection:
    """Open an existing database; ``check_same_thread=False`` as the TUI's workers share it."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def stored_fingerprint(path: Path) -> str | None:
    """The fingerprint the database at ``path`` was built from; None if absent or unreadable."""
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    if rows.get("schema_version") != SCHEMA_VERSION:
        return None
    return rows.get("fingerprint")


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


def _carry_runtime_state(conn: sqlite3.Connection, old: Path) -> None:
    if stored_fingerprint(old) is None:
        return
    conn.execute("ATTACH DATABASE ? AS old", (f"file:{old}?mode=ro",))
    try:
        for table in RUNTIME_TABLES:
            conn.execute(f"INSERT INTO main.{table} SELECT * FROM old.{table}")  # noqa: S608
    finally:
        conn.execute("DETACH DATABASE old")


def build_database(spec: DirectorySpec, source: Source, fp: str, data_dir: Path) -> Path:
    """Write a complete new database and rename it over the old one (call under the lock)."""
    make_private_dirs(data_dir)
    final = database_path(data_dir)
    temp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        # uri=True so ATTACH can open the old database read-only by URI.
        conn = sqlite3.connect(f"file:{temp}", uri=True, isolation_level=None)
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.executescript(SCHEMA + FEDERATION_SCHEMA)
        conn.execute("BEGIN")
        _fill(conn, spec, source, fp)
        conn.execute("COMMIT")
        _carry_runtime_state(conn, final)
        conn.close()
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, final)
        dir_fd = os.open(data_dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return final
