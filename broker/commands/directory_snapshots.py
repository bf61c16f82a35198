"""``broker directory snapshots list|drop|prune``: the stored directory snapshots.

A snapshot is derived from the configuration files (docs/architecture.md, "Where the snapshot
lives"), so dropping one loses nothing: the next load of those files stores it again — from the
process's memory, or rebuilt from the files. Dropping is still a change to the shared state that
every replica reads, so it is audited first (``DeleteDirectorySnapshots``, a ``BrokerAdminCall``,
as revocations and service users' MFA devices are): no audit, nothing dropped.

stdout carries the answer (a table, JSON, or the dropped fingerprints); messages go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from broker.commands.text_table import text_table
from broker.directory.snapshot_summary import COUNTED, SHORT, SnapshotSummary

if TYPE_CHECKING:
    from broker.audit.sink import AuditSink
    from broker.storage.database import Database

__all__ = [
    "current_fingerprint",
    "register_snapshots",
    "run_drop",
    "run_prune",
    "run_snapshots_list",
    "snapshot_summaries",
    "snapshot_table",
]


def current_fingerprint() -> str:
    """The fingerprint of this process's configuration files: the snapshot a load here uses."""
    from broker.config import config_dir
    from broker.directory.source import Source, fingerprint

    return fingerprint(Source(config_dir()))


def snapshot_summaries(database: Database, current: str | None) -> list[SnapshotSummary]:
    """Every stored snapshot, newest first, each read back as a load would read it."""
    from broker.directory.snapshot_summary import summarize
    from broker.storage.directory_snapshots import SqlDirectorySnapshots

    return [summarize(row, current) for row in SqlDirectorySnapshots(database).stored()]


def _status(summary: SnapshotSummary) -> str:
    """One word per row, so the table splits on whitespace; the heading explains them."""
    if summary.counts is None and not summary.damaged:
        return f"layout-{summary.schema_version}"
    word = "DAMAGED" if summary.damaged else ""
    if summary.selected:
        return f"{word},current" if word else "current"
    return word or "other-files"


def snapshot_table(summaries: Sequence[SnapshotSummary]) -> str:
    """The listing as text: a heading line, then one row per snapshot (or a line saying none)."""
    if not summaries:
        return "no directory snapshot is stored (the next load stores one)\n"
    heading = "directory snapshots stored (current: the one these config files select)\n"

    def count(summary: SnapshotSummary, table: str) -> str:
        return "?" if summary.counts is None else str(summary.counts[table])

    rows = [
        [
            s.fingerprint[:SHORT],
            s.built.strftime("%Y-%m-%dT%H:%M:%SZ"),
            str(s.size),
            *(count(s, table) for table in COUNTED),
            _status(s),
            s.config_dir,
        ]
        for s in summaries
    ]
    headers = ["SNAPSHOT", "STORED", "BYTES", *(t.upper() for t in COUNTED), "STATUS", "CONFIG DIR"]
    return heading + text_table(rows, headers)


def run_snapshots_list(as_json: bool, out: TextIO, database: Database, current: str) -> int:
    summaries = snapshot_summaries(database, current)
    if as_json:
        out.write(json.dumps([s.to_json() for s in summaries], indent=2, sort_keys=True) + "\n")
    else:
        out.write(snapshot_table(summaries))
    return 0


def _audited_drop(
    keys: Sequence[tuple[str, str]], command: str, database: Database, audit: AuditSink
) -> int:
    """Audit, then drop ``keys``; an audit that cannot be written drops nothing."""
    from broker.audit.admin import audited_change, unchanged_on_failure
    from broker.storage.directory_snapshots import SqlDirectorySnapshots

    with unchanged_on_failure("no directory snapshot was dropped"):
        return audited_change(
            audit,
            "DeleteDirectorySnapshots",
            {
                "command": command,
                "snapshots": [{"fingerprint": f, "schemaVersion": v} for f, v in keys],
            },
            lambda: SqlDirectorySnapshots(database).drop(keys),
        )


def _matching(prefix: str, keys: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The rows of the one fingerprint starting with ``prefix``.

    Raises:
        UsageError: no stored fingerprint starts with it, or more than one does.
    """
    from broker.errors import UsageError

    wanted = prefix.strip().lower()
    if not wanted:
        raise UsageError("name the snapshot: its fingerprint or the start of it (see `list`)")
    fingerprints = sorted({fp for fp, _version in keys if fp.lower().startswith(wanted)})
    if not fingerprints:
        raise UsageError(
            f"no stored directory snapshot's fingerprint starts with {wanted!r}; "
            "see `broker directory snapshots list`"
        )
    if len(fingerprints) > 1:
        shown = ", ".join(fp[: max(SHORT, len(wanted) + 1)] for fp in fingerprints)
        raise UsageError(
            f"{wanted!r} starts {len(fingerprints)} stored fingerprints ({shown}); "
            "give more of the one to drop"
        )
    return [key for key in keys if key[0] == fingerprints[0]]


def run_drop(
    prefix: str, out: TextIO, err: TextIO, database: Database, audit: AuditSink, current: str
) -> int:
    """Drop the snapshot whose fingerprint starts with ``prefix`` (in every layout)."""
    from broker.storage.directory_snapshots import SqlDirectorySnapshots

    keys = _matching(prefix, SqlDirectorySnapshots(database).keys())
    fp = keys[0][0]
    dropped = _audited_drop(keys, "drop", database, audit)
    out.write(f"{fp}\n")
    if not dropped:
        err.write(f"directory snapshot {fp[:SHORT]} was already gone (dropped by another)\n")
    elif fp == current:
        err.write(
            f"dropped directory snapshot {fp[:SHORT]}: the one these config files select; the "
            "next load rebuilds it from them\n"
        )
    else:
        err.write(f"dropped directory snapshot {fp[:SHORT]}\n")
    return 0


def run_prune(out: TextIO, err: TextIO, database: Database, audit: AuditSink, current: str) -> int:
    """Drop every stored snapshot except the one the current configuration files select."""
    from broker.directory.database import SCHEMA_VERSION
    from broker.storage.directory_snapshots import SqlDirectorySnapshots

    kept = (current, SCHEMA_VERSION)
    all_keys = SqlDirectorySnapshots(database).keys()
    keys = [key for key in all_keys if key != kept]
    if not keys:
        err.write("nothing to prune: no snapshot of other config files is stored\n")
        return 0
    dropped = _audited_drop(keys, "prune", database, audit)
    for fp in sorted({fp for fp, _version in keys}):
        out.write(f"{fp}\n")
    note = (
        f"kept {current[:SHORT]}, the one these config files select"
        if kept in all_keys
        else "these config files' snapshot is not stored: the next load stores it"
    )
    err.write(f"dropped {dropped} directory snapshot(s); {note}\n")
    return 0


# -- argparse -------------------------------------------------------------------------------


def _handle(ns: argparse.Namespace) -> int:
    from broker.commands.opened_state import opened_state

    current = current_fingerprint()
    with opened_state() as state:
        database = state.shared.database
        if ns.snapshots_action == "list":
            return run_snapshots_list(ns.json, sys.stdout, database, current)
        audit = state.shared.audit
        if ns.snapshots_action == "drop":
            return run_drop(ns.fingerprint, sys.stdout, sys.stderr, database, audit, current)
        return run_prune(sys.stdout, sys.stderr, database, audit, current)


def register_snapshots(sub: Any) -> None:
    """Add ``snapshots`` under the ``directory`` subcommands."""
    snapshots = sub.add_parser("snapshots", help="the stored directory snapshots")
    actions = snapshots.add_subparsers(dest="snapshots_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every stored snapshot, newest first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    drop = actions.add_parser(
        "drop", help="drop one snapshot (damaged or stale); the next load rebuilds it if needed"
    )
    drop.add_argument("fingerprint", metavar="FINGERPRINT", help="its fingerprint or a prefix")
    actions.add_parser("prune", help="drop every snapshot the current config files do not select")
    for parser in (listing, drop, actions.choices["prune"]):
        parser.set_defaults(handler=_handle)
