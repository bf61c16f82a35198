"""Group commit: concurrent callers share one durable write, each returning after it lands.

Used by the database audit chain
(``broker.storage.audit_chain``): one fsync or one transaction per batch instead of per event,
and still "answered" implies "durable", because every caller returns only when the write
covering its own item has committed, or raises the error that stopped it.

Two ways in. ``submit`` blocks its thread: the first caller to find no write in progress takes
every queued item and writes them; the others wait. ``submit_async`` is for an event loop: the
item is queued and a writer thread (one per ``GroupCommit``, started on first use) writes it,
so the loop never blocks on the disk and no pool thread sits waiting for an fsync. Both kinds
of caller share the same batches.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass
class _Slot(Generic[In, Out]):
    item: In
    result: Out | None = None
    error: BaseException | None = None
    done: bool = False
    future: asyncio.Future[Out] | None = None


class GroupCommit(Generic[In, Out]):
    """Batches items into ``write(batch) -> results`` (one result per item, in order).

    ``write`` raising fails every item of its batch with that exception.
    """

    def __init__(self, write: Callable[[list[In]], list[Out]]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)  # blocking callers wait here
        self._work = threading.Condition(self._lock)  # the writer thread waits here
        self._pending: list[_Slot[In, Out]] = []
        self._flushing = False
        self._writer: threading.Thread | None = None

    def submit(self, item: In) -> Out:
        """Write ``item`` (in some batch); return its result once that batch has committed."""
        slot: _Slot[In, Out] = _Slot(item)
        with self._lock:
            self._pending.append(slot)
            while not slot.done:
                if self._flushing:
                    self._done.wait()
                    continue
                self._lead()
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]

    async def submit_async(self, item: In) -> Out:
        """As ``submit``, awaited: the writer thread does the write."""
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._pending.append(_Slot(item, future=future))
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._run_writer, name="group-commit", daemon=True
                )
                self._writer.start()
            self._work.notify()
        return await future

    def _lead(self) -> None:
        """With the lock held: write every queued item, then hand over (lock held again)."""
        self._flushing = True
        batch, self._pending = self._pending, []
        self._lock.release()
        try:
            self._flush(batch)
        finally:
            self._lock.acquire()
            self._flushing = False
            if self._pending:
                self._work.notify()  # queued awaited items need the writer
            self._done.notify_all()

    def _run_writer(self) -> None:
        with self._lock:
            while True:
                while self._flushing or not self._pending:
                    self._work.wait()
                self._lead()

    def _flush(self, batch: list[_Slot[In, Out]]) -> None:
        try:
            results = self._write([slot.item for slot in batch])
        except Exception as exc:
            for slot in batch:
                slot.error, slot.done = exc, True
        else:
            for slot, result in zip(batch, results, strict=True):
                slot.result, slot.done = result, True
        awaited = [slot for slot in batch if slot.future is not None]
        loops = {slot.future.get_loop() for slot in awaited if slot.future is not None}
        for loop in loops:
            mine = [slot for slot in awaited if slot.future and slot.future.get_loop() is loop]
            try:
                loop.call_soon_threadsafe(_settle, mine)
            except RuntimeError:  # that loop has closed: nobody is waiting any more
                pass


def _settle(slots: list[_Slot[In, Out]]) -> None:
    """On the waiting loop: hand each awaited item its result or error."""
    for slot in slots:
        future = slot.future
        if future is None or future.done():  # the waiter was cancelled; the item was written
            continue
        if slot.error is not None:
            future.set_exception(slot.error)
        else:
            future.set_result(slot.result)  # type: ignore[arg-type]
