"""``broker directory snapshots``' run_… functions over a real embedded state database: rows
damaged where a listing cannot read them, rows of another snapshot layout, and an audit log
that cannot be written (nothing is dropped)."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import pytest

from broker.commands.directory_snapshots import run_drop, run_prune, run_snapshots_list
from broker.directory import load_directory
from broker.directory.database import SCHEMA_VERSION
from broker.directory.source import Source, fingerprint
from broker.errors import AuditError, ConfigError
from broker.storage.directory_snapshots import SqlDirectorySnapshots
from broker.sts.state import StsState
from tests.conftest import one_line


@pytest.fixture
def stored(config, sts_state: StsState) -> str:  # type: ignore[no-untyped-def]
    """The fingerprint of the config copy, its snapshot stored in ``sts_state``."""
    load_directory(config.root, sts_state.shared.database).close()
    return fingerprint(Source(config.root))


def _listing(state: StsState, current: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    assert run_snapshots_list(True, out, state.shared.database, current) == 0
    listed: list[dict[str, Any]] = json.loads(out.getvalue())
    return listed


def _events(state: StsState) -> list[str]:
    return [record["eventName"] for record in state.shared.audit.records()]


def _copy_row(state: StsState, fp: str, *, as_fp: str, as_version: str) -> None:
    with state.shared.database.transaction() as cursor:
        cursor.execute(
            "INSERT INTO directory_snapshots (fingerprint, schema_version, built_us, "
            "config_dir, content) SELECT ?, ?, built_us, config_dir, content "
            "FROM directory_snapshots WHERE fingerprint = ?",
            (as_fp, as_version, fp),
        )


def test_a_row_of_another_layout_is_named_not_called_damaged_and_pruned(
    sts_state: StsState, stored: str
) -> None:
    _copy_row(sts_state, stored, as_fp=stored, as_version="4")
    listed = _listing(sts_state, stored)
    by_layout = {row["schema_version"]: row for row in listed}
    assert by_layout["4"]["counts"] is None and not by_layout["4"]["damaged"]
    assert not by_layout["4"]["selected"] and by_layout[SCHEMA_VERSION]["selected"]
    table = io.StringIO()
    run_snapshots_list(False, table, sts_state.shared.database, stored)
    assert "layout-4" in table.getvalue() and "current" in table.getvalue()

    out, err = io.StringIO(), io.StringIO()
    assert run_prune(out, err, sts_state.shared.database, sts_state.shared.audit, stored) == 0
    assert out.getvalue() == f"{stored}\n"  # the same fingerprint, in the other layout
    assert SqlDirectorySnapshots(sts_state.shared.database).keys() == [(stored, SCHEMA_VERSION)]


def test_a_row_whose_time_is_not_a_number_is_refused_by_the_listing_and_can_be_dropped(
    sts_state: StsState, stored: str
) -> None:
    with sts_state.shared.database.transaction() as cursor:
        cursor.execute("UPDATE directory_snapshots SET built_us = 'yesterday'")
    with pytest.raises(ConfigError) as caught:
        _listing(sts_state, stored)
    line = one_line(str(caught.value))
    assert "holds a row of directory_snapshots whose built_us is not as the broker" in line
    out, err = io.StringIO(), io.StringIO()
    db, audit = sts_state.shared.database, sts_state.shared.audit
    assert run_drop(stored[:8], out, err, db, audit, stored) == 0
    assert out.getvalue() == f"{stored}\n"
    assert _listing(sts_state, stored) == []
    assert _events(sts_state) == ["DeleteDirectorySnapshots"]


class _BrokenAudit:
    """An audit log whose disk is full."""

    def append(self, event: Mapping[str, Any]) -> object:
        raise AuditError("the audit log cannot be written: no space left on device")

    async def append_async(self, event: Mapping[str, Any]) -> object:
        raise AuditError("the audit log cannot be written: no space left on device")


def test_nothing_is_dropped_when_the_audit_cannot_be_written(
    sts_state: StsState, stored: str
) -> None:
    other = "0" * 64
    _copy_row(sts_state, stored, as_fp=other, as_version=SCHEMA_VERSION)
    db = sts_state.shared.database
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(AuditError, match=r"^no directory snapshot was dropped: the audit log"):
        run_drop(stored, out, err, db, _BrokenAudit(), stored)
    with pytest.raises(AuditError, match=r"^no directory snapshot was dropped"):
        run_prune(out, err, db, _BrokenAudit(), stored)
    assert out.getvalue() == ""
    assert len(SqlDirectorySnapshots(db).keys()) == 2


def test_dropping_another_configurations_snapshot_says_so_plainly(
    sts_state: StsState, stored: str
) -> None:
    start = "cd" if stored.startswith("ab") else "ab"
    other = start * 32
    _copy_row(sts_state, stored, as_fp=other, as_version=SCHEMA_VERSION)
    out, err = io.StringIO(), io.StringIO()
    db, audit = sts_state.shared.database, sts_state.shared.audit
    assert run_drop(start.upper(), out, err, db, audit, stored) == 0
    assert one_line(err.getvalue()) == f"dropped directory snapshot {other[:12]}"
    assert [row["fingerprint"] for row in _listing(sts_state, stored)] == [stored]
