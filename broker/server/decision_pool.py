"""Pool threads for the Query API's decisions, handing results back to the event loop in batches.

Each STS request is decided off the event loop (it may read a database or fetch an issuer's
JWKS). ``loop.run_in_executor`` does that at a price paid per request: a
``concurrent.futures.Future`` with its condition and lock, a second future chained to it, and
one wake-up of the loop per result. Under load that was a noticeable share of the server's CPU
per request. Here a result is appended to a list, and the loop is woken once for everything
finished since it last looked: the loop's own futures are settled there in one go.

Several loops may use one pool (one per test in the suite, say); each result goes back to the
loop that asked.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = ["DecisionPool", "default_threads"]

T = TypeVar("T")


def default_threads() -> int:
    """As many threads as asyncio's default executor would have (blocking reads overlap)."""
    return min(32, (os.cpu_count() or 1) + 4)


@dataclass
class _Job(Generic[T]):
    future: asyncio.Future[T]
    call: Callable[[], T]


_Result = tuple[asyncio.Future[Any], Any, BaseException | None]
"""A finished call's future, its result, and its error (None when it returned)."""


class DecisionPool:
    """Threads that run ``call()`` for awaiting coroutines (started on first use, daemons)."""

    def __init__(self, threads: int | None = None) -> None:
        self._size = threads or default_threads()
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._jobs: deque[_Job[Any]] = deque()
        self._idle = 0
        self._started = 0
        self._finished: dict[asyncio.AbstractEventLoop, list[_Result]] = {}  # per waiting loop

    async def run(self, call: Callable[[], T]) -> T:
        """``call()``'s result (or exception), computed on a pool thread."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._jobs.append(_Job(future, call))
            if self._idle:
                self._work.notify()
            elif self._started < self._size:
                self._start_thread()
        return await future

    def _start_thread(self) -> None:
        """With the lock held: one more thread (they are added as work first needs them)."""
        self._started += 1
        threading.Thread(target=self._serve, name="sts-decide", daemon=True).start()

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._jobs:
                    self._idle += 1
                    self._work.wait()
                    self._idle -= 1
                job = self._jobs.popleft()
            try:
                result, error = job.call(), None
            except BaseException as exc:  # handed to the awaiting coroutine, as an executor does
                result, error = None, exc
            self._hand_back(job.future, result, error)

    def _hand_back(
        self, future: asyncio.Future[Any], result: Any, error: BaseException | None
    ) -> None:
        loop = future.get_loop()
        with self._lock:
            first = loop not in self._finished
            self._finished.setdefault(loop, []).append((future, result, error))
        if first:  # the loop has not been asked to look since its last batch: ask now
            try:
                loop.call_soon_threadsafe(self._settle, loop)
            except RuntimeError:  # that loop has closed: nobody is waiting any more
                with self._lock:
                    self._finished.pop(loop, None)

    def _settle(self, loop: asyncio.AbstractEventLoop) -> None:
        """On ``loop``: settle every future of it that finished since the last call."""
        with self._lock:
            finished = self._finished.pop(loop, None)
        if finished is None:
            return
        for future, result, error in finished:
            if future.done():  # its waiter was cancelled
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
