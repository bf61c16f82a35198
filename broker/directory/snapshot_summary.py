"""What an administrator is shown of each stored directory snapshot.

Each stored row is read back exactly as ``load_directory`` reads it (``database.read_content``),
so a row shown as damaged is one a load would refuse, and one shown with its counts is one a
load would use. A row of another snapshot layout (``SCHEMA_VERSION``) is never used by this
broker (an older or newer broker's, during an upgrade), so it is only named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from broker.directory.database import SCHEMA_VERSION, read_content
from broker.errors import DirectoryError
from broker.storage.directory_snapshots import StoredSnapshot

__all__ = ["COUNTED", "SHORT", "SnapshotSummary", "summarize"]

COUNTED = ("users", "groups", "accounts", "assignments")
"""The snapshot tables counted for the listing (assignments: one row per account granted)."""

SHORT = 12
"""Hex digits of a fingerprint shown in tables and messages."""


@dataclass(frozen=True)
class SnapshotSummary:
    fingerprint: str
    schema_version: str
    built: datetime
    config_dir: str
    size: int
    """Bytes of the stored document."""
    counts: dict[str, int] | None
    """Rows per table of ``COUNTED``; None when the row is damaged or of another layout."""
    selected: bool
    """The snapshot the current configuration files select (the one a load here uses)."""

    @property
    def damaged(self) -> bool:
        return self.schema_version == SCHEMA_VERSION and self.counts is None

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "schema_version": self.schema_version,
            "stored": self.built.isoformat(),
            "config_dir": self.config_dir,
            "bytes": self.size,
            "counts": self.counts,
            "selected": self.selected,
            "damaged": self.damaged,
        }


def _counts(row: StoredSnapshot) -> dict[str, int] | None:
    if row.schema_version != SCHEMA_VERSION:
        return None
    try:
        conn = read_content(row.content, row.fingerprint)
    except DirectoryError:
        return None
    try:
        return {
            table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608
            for table in COUNTED
        }
    finally:
        conn.close()


def summarize(row: StoredSnapshot, current_fingerprint: str | None) -> SnapshotSummary:
    """``row`` as listed; ``current_fingerprint``: that of the configuration files here (None
    when there are none to compare with)."""
    return SnapshotSummary(
        fingerprint=row.fingerprint,
        schema_version=row.schema_version,
        built=row.built,
        config_dir=row.config_dir,
        size=len(row.content.encode("utf-8", "surrogatepass")),
        counts=_counts(row),
        selected=row.fingerprint == current_fingerprint and row.schema_version == SCHEMA_VERSION,
    )
