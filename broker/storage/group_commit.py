"""Group commit: concurrent callers share one durable write, each returning after it lands.

The first caller to find no write in progress takes every queued item and writes them in one
transaction; the others wait. Each caller returns only when the write covering its own item
has committed, or raises the error that stopped it — so "answered" still implies "durable",
at one commit (one fsync) per batch instead of per item.
"""

from __future__ import annotations

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


class GroupCommit(Generic[In, Out]):
    """Batches ``submit`` calls into ``write(batch) -> results`` (one result per item, in order)."""

    def __init__(self, write: Callable[[list[In]], list[Out]]) -> None:
        self._write = write
        self._cond = threading.Condition()
        self._pending: list[_Slot[In, Out]] = []
        self._flushing = False

    def submit(self, item: In) -> Out:
        slot: _Slot[In, Out] = _Slot(item)
        with self._cond:
            self._pending.append(slot)
            while not slot.done:
                if self._flushing:
                    self._cond.wait()
                    continue
                self._flushing = True
                batch, self._pending = self._pending, []
                self._cond.release()
                try:
                    self._flush(batch)
                finally:
                    self._cond.acquire()
                    self._flushing = False
                    self._cond.notify_all()
        if slot.error is not None:
            raise slot.error
        assert slot.result is not None
        return slot.result

    def _flush(self, batch: list[_Slot[In, Out]]) -> None:
        try:
            results = self._write([slot.item for slot in batch])
        except Exception as exc:
            for slot in batch:
                slot.error, slot.done = exc, True
            return
        for slot, result in zip(batch, results, strict=True):
            slot.result, slot.done = result, True
