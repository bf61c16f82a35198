"""The audit log in the shared database: one hash chain, whichever replica writes.

Each record is the event plus ``eventSequence`` (1, 2, ...) and ``previousEventHash`` (SHA-256
of the previous record's canonical JSON; 64 zeros for the first) — the same chain rule as the
file log, so one verifier reads both. Writers take the ``audit`` section (one at a time across
replicas), read the head, insert (a batch of concurrent events at once), and commit before
``append`` returns: an event whose call was
answered is durable in the database. Any failure raises ``AuditError`` and the caller refuses.

``verify`` re-walks the chain: an edited, reordered or deleted record breaks it. Cutting
records off the end is caught by the head (``audit_head``, migration 0004): the newest
record's sequence number and hash, written in the same transaction as each batch, as the file
log's head file is. Writers number from the head, not from the newest row, so records appended
after a cut leave a gap rather than paper over it; a chain without its head refuses writes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from broker.errors import (
    AuditError,
    AuditUnavailableError,
    BrokerError,
    StateStoreUnavailableError,
)
from broker.group_commit import GroupCommit
from broker.storage.corrupt_rows import ROW_ERRORS, corrupt_row
from broker.storage.database import Cursor, Database

__all__ = ["GENESIS_HASH", "ChainCheck", "SqlAuditLog", "append_within", "canonical"]

GENESIS_HASH = "0" * 64


def canonical(record: Mapping[str, Any]) -> bytes:
    """The bytes a record's hash covers (sorted keys, no spaces)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ChainCheck:
    """What ``verify`` found: ``ok``, how many records, and the first problem if any."""

    ok: bool
    events: int
    problem: str | None = None


class SqlAuditLog:
    """The audit chain over a ``Database``."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._group: GroupCommit[dict[str, Any], dict[str, Any]] = GroupCommit(self._write)

    def append(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``event`` durably; return it with ``eventSequence`` and ``previousEventHash``.

        Concurrent callers in this process are group-committed: one transaction per batch,
        each caller returning after the commit that covers its event.

        Raises:
            AuditError: the database refused or is unreachable; nothing may be answered.
        """
        return self._group.submit(dict(event))

    async def append_async(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """As ``append``, awaited on an event loop (the transaction runs on a writer thread)."""
        return await self._group.submit_async(dict(event))

    def _write(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            with self._db.transaction(serialize="audit", leaves_cached_state=True) as cursor:
                records = append_within(cursor, events)
        except AuditError:
            raise
        except StateStoreUnavailableError as exc:
            raise AuditUnavailableError(f"the audit log cannot be written: {exc}") from None
        except BrokerError as exc:
            raise AuditError(f"the audit log cannot be written: {exc}") from None
        except Exception as exc:  # any driver error: fail closed, say which
            raise AuditError(
                f"the audit log cannot be written ({type(exc).__name__}); nothing was answered"
            ) from None
        return records

    def records(self, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every record in sequence order.

        Raises:
            ConfigError: a record is not a JSON object (``verify`` reports it as a break).
        """
        for record in self._stored(batch):
            if record is None:
                raise corrupt_row(self._db, "audit_events", "record")
            yield record

    def _stored(self, batch: int = 1000) -> Iterator[dict[str, Any] | None]:
        """Every record in sequence order; ``None`` for one that is not a JSON object."""
        after = 0
        while True:
            with self._db.transaction(read_only=True) as cursor:
                cursor.execute(
                    "SELECT sequence, record FROM audit_events WHERE sequence > ? "
                    "ORDER BY sequence LIMIT ?",
                    (after, batch),
                )
                found = cursor.fetchall()
            if not found:
                return
            for sequence, text in found:
                after = int(sequence)
                yield _parsed(text)

    def _head(self) -> tuple[int, str] | None:
        with self._db.transaction(read_only=True) as cursor:
            try:
                return _read_head(cursor)
            except ROW_ERRORS:
                raise corrupt_row(self._db, "audit_head", "sequence") from None

    def verify(self, *, expect_at_least: int = 0) -> ChainCheck:
        """Re-walk the chain from the first record and compare its end with the head.

        The head is read before the walk (the chain must reach it, with its hash) and again
        after (the chain must not run past it), so writers appending meanwhile do not count
        as a break.
        """
        start = self._head()
        previous, count, at_head = GENESIS_HASH, 0, None
        for record in self._stored():
            count += 1
            if record is None:
                return ChainCheck(False, count, f"record {count} is not a JSON object")
            if record.get("eventSequence") != count:
                return ChainCheck(False, count, f"record {count} is out of sequence")
            if record.get("previousEventHash") != previous:
                return ChainCheck(False, count, f"record {count} does not follow its predecessor")
            previous = hashlib.sha256(canonical(record)).hexdigest()
            if start is not None and count == start[0]:
                at_head = previous
        problem = _compare_with_head(count, at_head, start, self._head())
        if problem is None and count < expect_at_least:
            problem = f"{expect_at_least - count} records missing at the end"
        return ChainCheck(problem is None, count, problem)


def append_within(cursor: Cursor, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chain ``events`` onto the audit chain inside the caller's transaction, which must hold
    the ``audit`` section; the records as written.

    Raises:
        AuditError: the chain has records but no head (nothing is written).
    """
    head = _read_head(cursor)
    if head is None:
        cursor.execute("SELECT 1 FROM audit_events LIMIT 1")
        if cursor.fetchone() is not None:
            raise AuditError(
                "the database audit chain has records but no head; "
                "run `broker audit verify` and restore the database"
            )
    sequence, previous = head or (0, GENESIS_HASH)
    records: list[dict[str, Any]] = []
    for event in events:
        sequence += 1
        record = {**event, "eventSequence": sequence, "previousEventHash": previous}
        line = canonical(record)
        previous = hashlib.sha256(line).hexdigest()
        cursor.execute(
            "INSERT INTO audit_events (sequence, record, hash) VALUES (?, ?, ?)",
            (sequence, line.decode(), previous),
        )
        records.append(record)
    if records:
        _write_head(cursor, (sequence, previous), exists=head is not None)
    return records


def _parsed(text: Any) -> dict[str, Any] | None:
    try:
        record = json.loads(text)
    except ROW_ERRORS:
        return None
    return record if isinstance(record, dict) else None


def _read_head(cursor: Cursor) -> tuple[int, str] | None:
    cursor.execute("SELECT sequence, hash FROM audit_head WHERE id = 1")
    row = cursor.fetchone()
    return (int(row[0]), str(row[1])) if row else None


def _write_head(cursor: Cursor, head: tuple[int, str], *, exists: bool) -> None:
    if exists:
        cursor.execute("UPDATE audit_head SET sequence = ?, hash = ? WHERE id = 1", head)
    else:
        cursor.execute("INSERT INTO audit_head (id, sequence, hash) VALUES (1, ?, ?)", head)


def _compare_with_head(
    count: int, at_head: str | None, start: tuple[int, str] | None, end: tuple[int, str] | None
) -> str | None:
    """The truncation problem, if any, of a chain of ``count`` records against its head."""
    if end is None:
        if count == 0:
            return None
        return f"the head is missing ({count} records, nothing records where the chain ends)"
    if start is not None and count < start[0]:
        return f"{_span(count + 1, start[0])} missing at the end (the head records {start[0]})"
    if start is not None and at_head != start[1]:
        return f"record {start[0]} does not match the head's hash"
    if count > end[0]:
        return f"{_span(end[0] + 1, count)} beyond the head (the head records {end[0]})"
    return None


def _span(first: int, last: int) -> str:
    return f"record {first}" if first == last else f"records {first}-{last}"
