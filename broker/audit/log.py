"""The audit log: append-only JSON lines, hash-chained, fsynced, safe under concurrent writers.

Each line is one event with two fields added here: ``eventSequence`` (1, 2, ...) and
``previousEventHash`` (SHA-256 of the previous line's bytes; 64 zeros for the first). A head
file beside the log (``audit.jsonl.head``) records the count and the hash of the last line, so
``verify`` detects editing, reordering or deleting any line (the chain breaks) and cutting
lines off the end (the head no longer matches) — as CloudTrail's digest files do.

Writers take an exclusive ``flock`` on the log, read the last line's hash, append, fsync, then
update the head and fsync it, all before the caller may answer. Any failure raises
``AuditError`` and the caller refuses the call (fail closed).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.errors import AuditError

__all__ = ["GENESIS_HASH", "AuditLog", "VerifyResult", "default_log_path"]

GENESIS_HASH = "0" * 64
_TAIL_CHUNK = 16_384


def default_log_path() -> Path:
    """``<data>/audit/audit.jsonl``."""
    from broker.config.loader import data_dir

    return data_dir() / "audit" / "audit.jsonl"


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    """What ``verify`` found in a log that verifies."""

    events: int
    last_hash: str


class AuditLog:
    """One log file and its head file. Cheap to construct; every call opens and locks."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_log_path()
        self.head_path = self.path.with_name(self.path.name + ".head")

    def _refuse(self, what: str, exc: OSError) -> AuditError:
        return AuditError(
            f"cannot {what} the audit log {self.path} ({exc.strerror or exc}); the call was "
            "refused: fix the file or disk and retry"
        )

    def append(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``event`` durably; return it with ``eventSequence`` and ``previousEventHash``."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise self._refuse("open", exc) from None
        try:
            if os.fstat(fd).st_mode & 0o077:
                raise AuditError(
                    f"the audit log {self.path} is readable by other users; run chmod 600 on it"
                )
            fcntl.flock(fd, fcntl.LOCK_EX)
            sequence, previous = self._last(fd)
            record = {**event, "eventSequence": sequence + 1, "previousEventHash": previous}
            line = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
            os.write(fd, line)
            os.fsync(fd)
            self._write_head(sequence + 1, _line_hash(line))
            return record
        except OSError as exc:
            raise self._refuse("write", exc) from None
        finally:
            os.close(fd)

    def _last(self, fd: int) -> tuple[int, str]:
        """Sequence number and hash of the last line (0 and the genesis hash when empty)."""
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, GENESIS_HASH
        chunk = _TAIL_CHUNK
        while True:
            start = max(0, size - chunk)
            data = os.pread(fd, size - start, start)
            body = data.rstrip(b"\n")
            cut = body.rfind(b"\n")
            if cut >= 0 or start == 0:
                last = body[cut + 1 :]
                break
            chunk *= 4
        try:
            sequence = int(json.loads(last)["eventSequence"])
        except (ValueError, KeyError, TypeError):
            raise AuditError(
                f"the last line of {self.path} is not an event; run `broker audit verify`"
            ) from None
        return sequence, _line_hash(last)

    def _write_head(self, events: int, last_hash: str) -> None:
        data = json.dumps({"events": events, "lastHash": last_hash}).encode()
        fd = os.open(self.head_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, data, 0)
            os.ftruncate(fd, len(data))
            os.fsync(fd)
        finally:
            os.close(fd)

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Each raw line with its 1-based line number (no parsing, no checks)."""
        try:
            with self.path.open("rb") as handle:
                yield from enumerate(handle, start=1)
        except FileNotFoundError:
            return

    def events(self) -> Iterator[dict[str, Any]]:
        """Each event, parsed (use ``verify`` first when integrity matters)."""
        for number, line in self.lines():
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                raise AuditError(
                    f"{self.path}:{number} is not a complete event; run `broker audit verify`"
                ) from None

    def verify(self) -> VerifyResult:
        """Check the whole chain and the head; raise ``AuditError`` naming the first break."""
        previous, count = GENESIS_HASH, 0
        for number, line in self.lines():
            where = f"{self.path}:{number}"
            if not line.endswith(b"\n"):
                raise AuditError(f"{where}: the last event is cut short (truncated log)")
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise AuditError(f"{where}: not a complete JSON event (edited)") from None
            if record.get("previousEventHash") != previous:
                raise AuditError(
                    f"{where}: hash chain broken (an event before it was edited, removed or "
                    "reordered)"
                )
            if record.get("eventSequence") != number:
                raise AuditError(f"{where}: sequence {record.get('eventSequence')} out of order")
            previous, count = _line_hash(line), number
        self._check_head(count, previous)
        return VerifyResult(count, previous)

    def _check_head(self, count: int, last_hash: str) -> None:
        try:
            head = json.loads(self.head_path.read_bytes())
        except FileNotFoundError:
            if count == 0:
                return
            raise AuditError(f"{self.head_path} is missing; the log cannot be checked") from None
        except (OSError, ValueError):
            raise AuditError(f"{self.head_path} is unreadable or edited") from None
        if head.get("events") != count or head.get("lastHash") != last_hash:
            raise AuditError(
                f"{self.path}: holds {count} events but {head.get('events')} were written "
                "(truncated, or the last event was edited)"
            )
