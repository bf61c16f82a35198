"""The audit log in the shared database: one hash chain, whichever replica writes.

Each record is the event plus ``eventSequence`` (1, 2, ...) and ``previousEventHash`` (SHA-256
of the previous record's canonical JSON; 64 zeros for the first) — the same chain rule as the
file log, so one verifier reads both. Writers take the ``audit`` section (one at a time across
replicas), read the head, insert (a batch of concurrent events at once), and commit before
``append`` returns: an event whose call was
answered is durable in the database. Any failure raises ``AuditError`` and the caller refuses.

``verify`` re-walks the chain: an edited, reordered or deleted record breaks it; cutting
records off the end is caught by comparing with a count the caller kept (``expect_at_least``),
as the file log's head file does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from broker.errors import AuditError, BrokerError
from broker.storage.database import Database
from broker.storage.group_commit import GroupCommit

__all__ = ["GENESIS_HASH", "ChainCheck", "SqlAuditLog", "canonical"]

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

    def _write(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        try:
            with self._db.transaction(serialize="audit") as cursor:
                cursor.execute(
                    "SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1"
                )
                head = cursor.fetchone()
                sequence, previous = (int(head[0]), str(head[1])) if head else (0, GENESIS_HASH)
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
        except AuditError:
            raise
        except BrokerError as exc:
            raise AuditError(f"the audit log cannot be written: {exc}") from None
        except Exception as exc:  # any driver error: fail closed, say which
            raise AuditError(
                f"the audit log cannot be written ({type(exc).__name__}); nothing was answered"
            ) from None
        return records

    def records(self, *, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every record in sequence order."""
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
                yield json.loads(text)

    def verify(self, *, expect_at_least: int = 0) -> ChainCheck:
        """Re-walk the chain from the first record."""
        previous, count = GENESIS_HASH, 0
        for record in self.records():
            count += 1
            if record.get("eventSequence") != count:
                return ChainCheck(False, count, f"record {count} is out of sequence")
            if record.get("previousEventHash") != previous:
                return ChainCheck(False, count, f"record {count} does not follow its predecessor")
            previous = hashlib.sha256(canonical(record)).hexdigest()
        if count < expect_at_least:
            return ChainCheck(False, count, f"{expect_at_least - count} records missing at the end")
        return ChainCheck(True, count)
