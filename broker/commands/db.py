"""``broker db``: the shared-state database's schema (``upgrade``, ``status``).

The database is ``--database-url``, else ``$BROKER_DATABASE_URL`` (PostgreSQL for replicas),
else SQLite under the data directory.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

__all__ = ["DbInput", "register", "run_db"]


@dataclass(frozen=True)
class DbInput:
    """What ``broker db`` was asked."""

    action: str
    database_url: str | None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "db",
        help="database migrations (upgrade, status)",
        description="Manage the schema of the broker's shared-state database.",
    )
    parser.add_argument(
        "action",
        nargs="?",
        default="status",
        choices=("upgrade", "status"),
        help="apply migrations, or show what is applied (default: status)",
    )
    parser.add_argument(
        "--database-url", help="postgresql://... or sqlite:///... (default: $BROKER_DATABASE_URL)"
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    for line in run_db(DbInput(args.action, args.database_url)):
        print(line)
    return 0


def run_db(options: DbInput) -> list[str]:
    """Apply or list migrations; one line per migration."""
    from broker.config.loader import configured_database_url, data_dir
    from broker.storage.database import open_database
    from broker.storage.migrations import applied, known_migrations, upgrade
    from broker.storage.url import database_url, redacted

    url = database_url(options.database_url or configured_database_url(), data_dir())
    database = open_database(url, pool_size=1)
    try:
        if options.action == "upgrade":
            done = upgrade(database)
            lines = [f"applied {m.version:04d}_{m.name}" for m in done]
            return lines or [f"{redacted(url.url)}: schema is current"]
        present = applied(database)
        return [
            f"{m.version:04d}_{m.name}\t{'applied' if m.version in present else 'pending'}"
            for m in known_migrations()
        ]
    finally:
        database.close()
