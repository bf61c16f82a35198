"""The one server-side state for tests that build stores directly: an embedded SQLite database
in a test's directory, opened once per directory (as a front end opens it once)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from broker.sts.state import StsState, open_sts_state

__all__ = [
    "audit_events",
    "audit_text",
    "break_audit_chain",
    "embedded_state",
    "stored_bytes",
]

_OPENED: dict[Path, StsState] = {}


def embedded_state(directory: Path) -> StsState:
    """The state in ``directory/broker.db`` (the same object for the same directory)."""
    key = directory.absolute()
    if key not in _OPENED:
        _OPENED[key] = open_sts_state(None, key, pool_size=1)
    return _OPENED[key]


def audit_events(directory: Path) -> list[dict[str, Any]]:
    """Every event of the audit chain in ``directory``'s embedded state, oldest first."""
    return list(embedded_state(directory).shared.audit.records())


def break_audit_chain(directory: Path) -> None:
    """Leave the chain of ``directory``'s state unwritable (records without a head), as a
    damaged database would: every later append must refuse."""
    with embedded_state(directory).shared.database.transaction(serialize="audit") as cursor:
        cursor.execute("DELETE FROM audit_head")
        cursor.execute(
            "INSERT INTO audit_events (sequence, record, hash) VALUES (?, '{}', ?)",
            (10**9, "broken-" + str(directory)),
        )


def audit_text(directory: Path) -> str:
    """The audit chain of ``directory``'s state as compact JSON lines, one event a line."""
    import json

    return "".join(
        json.dumps(event, separators=(",", ":")) + "\n" for event in audit_events(directory)
    )


def stored_bytes(directory: Path) -> bytes:
    """Everything the embedded database of ``directory`` holds on disk (with its WAL)."""
    return b"".join(path.read_bytes() for path in sorted(directory.glob("broker.db*")))
