"""Schema migrations under version control, applied in order by ``broker db upgrade``.

Each ``migrations/NNNN_name.sql`` is portable SQL run in one transaction with its row in
``schema_migrations``. Upgrading holds the ``schema`` section (one upgrader at a time, across
replicas), so two replicas starting together apply each migration once. A database that is
*newer* than this broker (a row we do not know) is refused rather than used.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from importlib import resources

from broker.errors import ConfigError
from broker.storage.database import Cursor, Database, open_database
from broker.storage.url import DatabaseUrl, database_url

__all__ = [
    "Migration",
    "applied",
    "known_migrations",
    "open_current",
    "require_current",
    "upgrade",
]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def known_migrations() -> tuple[Migration, ...]:
    """The migrations shipped with this broker, in order."""
    found = []
    for entry in resources.files("broker.storage").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return tuple(sorted(found, key=lambda m: m.version))


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def _ensure_table(cursor: Cursor) -> None:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_us BIGINT NOT NULL)"
    )


def _applied(cursor: Cursor) -> dict[int, str]:
    cursor.execute("SELECT version, name FROM schema_migrations")
    return {int(version): str(name) for version, name in cursor.fetchall()}


def applied(database: Database) -> dict[int, str]:
    """Versions applied to ``database`` (version -> name)."""
    with database.transaction(serialize="schema") as cursor:
        _ensure_table(cursor)
        return _applied(cursor)


def _check_not_newer(done: dict[int, str], known: tuple[Migration, ...]) -> None:
    unknown = sorted(set(done) - {m.version for m in known})
    if unknown:
        raise ConfigError(
            f"the database has schema version {unknown[-1]}, newer than this broker knows; "
            "upgrade the broker"
        )


def upgrade(database: Database, *, through: int | None = None) -> list[Migration]:
    """Apply every migration not yet applied (up to version ``through`` when given, which
    tests use to build an older schema); return those applied now."""
    known = known_migrations()
    done_now: list[Migration] = []
    with database.transaction(serialize="schema") as cursor:
        _ensure_table(cursor)
        done = _applied(cursor)
        _check_not_newer(done, known)
        for migration in known:
            if migration.version in done or (through is not None and migration.version > through):
                continue
            for statement in _statements(migration.sql):
                cursor.execute(statement)
            cursor.execute(
                "INSERT INTO schema_migrations (version, name, applied_us) VALUES (?, ?, ?)",
                (migration.version, migration.name, time.time_ns() // 1000),
            )
            done_now.append(migration)
    return done_now


def require_current(database: Database) -> None:
    """Refuse to serve on a database whose schema is behind or ahead of this broker."""
    known = known_migrations()
    done = applied(database)
    _check_not_newer(done, known)
    missing = [m.version for m in known if m.version not in done]
    if missing:
        raise ConfigError(
            f"the database schema is behind (missing {missing[0]:04d}); run `broker db upgrade`"
        )


def open_current(url: str | DatabaseUrl, *, pool_size: int = 8) -> Database:
    """Open the shared-state database ready for use: the embedded SQLite is brought up to date
    on open; PostgreSQL, shared by replicas, must already be (`broker db upgrade`).

    Raises:
        ConfigError: unreachable, or a PostgreSQL schema behind or ahead of this broker.
    """
    chosen = url if isinstance(url, DatabaseUrl) else database_url(url)
    database = open_database(chosen, pool_size=pool_size)
    try:
        if chosen.dialect == "sqlite":
            upgrade(database)
        else:
            require_current(database)
    except BaseException:
        database.close()
        raise
    return database
