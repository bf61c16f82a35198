"""The audit log: append-only JSON lines, hash-chained, fsynced, safe under concurrent writers.

Each line is one event with two fields added here: ``eventSequence`` (1, 2, ...) and
``previousEventHash`` (SHA-256 of the previous line's bytes; 64 zeros for the first). A head
file beside the log (``audit.jsonl.head``) records the count and the hash of the last line, so
``verify`` detects editing, reordering or deleting any line (the chain breaks) and cutting
lines off the end (the head no longer matches) — as CloudTrail's digest files do.

Writers take an exclusive ``flock`` on the log, read the last line's hash, append, fsync, then
update the head, all before the caller may answer. Any failure raises ``AuditError`` and the
caller refuses the call (fail closed).

One fsync per group commit: the events are durable once the log's fsync returns; the head is
then rewritten in place as one fixed-size record (``HEAD_BYTES``, under a disk sector, so a
crash leaves the old or the new head, never a torn one) and fsynced only when created or at
most once per ``HEAD_SYNC_SECONDS``. The head is written after the log's fsync, so it can never
be durable ahead of the log; after a power loss it may lag behind the events of at most the
last second of writing, which ``verify`` accepts (those events still chain; cutting them off
would go unseen), as it always accepted a head one batch behind. A process crash loses
nothing: the page cache keeps the written head.

``sync_interval`` > 0 (``broker serve --audit-sync interval``) is an opt-in trade for disks whose
fsync stalls for hundreds of milliseconds: each event is still written (``write`` returned, so
a killed process loses nothing answered, and a failed write still refuses the call) before the
answer leaves, but the fsync, and the head that follows it, happen on a background thread at
most ``sync_interval`` seconds later. A power loss can then drop up to that much of the newest
events, and cutting them off the end goes unseen until the next sync moves the head; the head
is still only ever written for events already fsynced, so it is never ahead of the log. A sync
that fails makes every later append refuse, as a failed write does.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broker.errors import AuditError
from broker.group_commit import GroupCommit
from broker.private_dirs import make_private_dirs

__all__ = [
    "GENESIS_HASH",
    "HEAD_BYTES",
    "HEAD_SYNC_SECONDS",
    "AuditLog",
    "VerifyResult",
    "default_log_path",
]

GENESIS_HASH = "0" * 64
HEAD_BYTES = 128
"""The head's fixed size: one write within one sector, space-padded JSON."""
HEAD_SYNC_SECONDS = 1.0
"""The longest a written head waits for its fsync (the next batch after it does it)."""
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

    def __init__(self, path: Path | None = None, *, sync_interval: float = 0.0) -> None:
        self.path = path or default_log_path()
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.sync_interval = sync_interval
        self._group: GroupCommit[dict[str, Any], dict[str, Any]] = GroupCommit(self._write)
        self._head_synced = float("-inf")
        self._unsynced = threading.Event()
        self._syncer: threading.Thread | None = None
        self._sync_failure: AuditError | None = None

    def _refuse(self, what: str, exc: OSError) -> AuditError:
        return AuditError(
            f"cannot {what} the audit log {self.path} ({exc.strerror or exc}); the call was "
            "refused: fix the file or disk and retry"
        )

    def append(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``event`` durably; return it with ``eventSequence`` and ``previousEventHash``.

        Group commit (``broker.group_commit``): concurrent callers in this process share one
        write and one fsync, and each returns only after the fsync that covers its own event
        (or raises the ``AuditError`` that prevented it).
        """
        return self._group.submit(dict(event))

    async def append_async(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """As ``append``, awaited on an event loop (the write happens on a writer thread)."""
        return await self._group.submit_async(dict(event))

    def _write(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self._sync_failure is not None:
            raise self._sync_failure
        try:
            records = self._write_locked(events)
        except OSError as exc:
            raise self._refuse("write", exc) from None
        if self.sync_interval > 0:
            self._schedule_sync()
        return records

    def _schedule_sync(self) -> None:
        if self._syncer is None:
            self._syncer = threading.Thread(target=self._sync_loop, name="audit-sync", daemon=True)
            self._syncer.start()
            atexit.register(self._flush_at_exit)
        self._unsynced.set()

    def _sync_loop(self) -> None:
        while True:
            self._unsynced.wait()
            time.sleep(self.sync_interval)
            self._unsynced.clear()  # events written from here on wait for the next round
            try:
                self.flush()
            except OSError as exc:
                self._sync_failure = self._refuse("fsync", exc)
            except AuditError as exc:
                self._sync_failure = exc

    def _flush_at_exit(self) -> None:
        """The last sync of an exiting process; a failure here has no call left to refuse."""
        try:
            self.flush()
        except (OSError, AuditError):
            return

    def flush(self) -> None:
        """Make every event written so far durable and move the head to the last of them.

        The tail is read under the lock, the fsync runs without it (writers go on), and the
        head moves forward only, under the lock, to events the fsync covered.
        """
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                sequence, last = self._last(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.fsync(fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if self._head_events() < sequence:
                    self._write_head(sequence, last, sync=False)  # synced below, unlocked
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        self._sync_head()

    def _head_events(self) -> int:
        try:
            head = json.loads(self.head_path.read_bytes())
        except (OSError, ValueError):
            return -1
        events = head.get("events") if isinstance(head, dict) else None
        return events if isinstance(events, int) else -1

    def _sync_head(self) -> None:
        try:
            fd = os.open(self.head_path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _write_locked(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT
        try:
            try:
                fd = os.open(self.path, flags, 0o600)
            except FileNotFoundError:  # the first event: make the directory (0700), once
                make_private_dirs(self.path.parent)
                fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise self._refuse("open", exc) from None
        try:
            if os.fstat(fd).st_mode & 0o077:
                raise AuditError(
                    f"the audit log {self.path} is readable by other users; run chmod 600 on it"
                )
            fcntl.flock(fd, fcntl.LOCK_EX)
            sequence, previous = self._last(fd)
            records, lines = [], []
            for event in events:
                sequence += 1
                record = {**event, "eventSequence": sequence, "previousEventHash": previous}
                line = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
                previous = _line_hash(line)
                records.append(record)
                lines.append(line + b"\n")
            os.write(fd, b"".join(lines))
            if self.sync_interval <= 0:
                os.fsync(fd)
                self._write_head(sequence, previous)
            elif not self.head_path.exists():  # a head from the start, so verify has one
                self._write_head(0, GENESIS_HASH)
            return records
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

    def _write_head(self, events: int, last_hash: str, *, sync: bool = True) -> None:
        """Rewrite the head; fsync it when new, or (``sync``) at most once per second."""
        data = json.dumps({"events": events, "lastHash": last_hash}).encode().ljust(HEAD_BYTES)
        fd = os.open(self.head_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            resized = os.fstat(fd).st_size != HEAD_BYTES  # new, or written by an older version
            os.pwrite(fd, data, 0)
            if resized:
                os.ftruncate(fd, HEAD_BYTES)
            now = time.monotonic()
            if resized or (sync and now - self._head_synced >= HEAD_SYNC_SECONDS):
                os.fsync(fd)
                self._head_synced = now
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
        hashes = [GENESIS_HASH]
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
            hashes.append(previous)
        self._check_head(hashes)
        return VerifyResult(count, previous)

    def _check_head(self, hashes: list[str]) -> None:
        """The head names an event the log still holds, with the same hash.

        The head may lag the log by the events of one batch after a crash between the log's
        fsync and the head's; it may never be ahead (that is truncation).
        """
        count = len(hashes) - 1
        try:
            head = json.loads(self.head_path.read_bytes())
        except FileNotFoundError:
            if count == 0:
                return
            raise AuditError(f"{self.head_path} is missing; the log cannot be checked") from None
        except (OSError, ValueError):
            raise AuditError(f"{self.head_path} is unreadable or edited") from None
        written = head.get("events")
        if not isinstance(written, int) or written > count or written < 0:
            raise AuditError(
                f"{self.path}: holds {count} events but {written} were written (truncated)"
            )
        if hashes[written] != head.get("lastHash"):
            raise AuditError(
                f"{self.path}:{written}: does not match the head (the last event was edited)"
            )
