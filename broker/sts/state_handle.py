"""The one state as a front end hands it down: where it is, opened on first need, closed once.

A front end (a command, the terminal app) resolves the data directory and the configured
database once and makes one ``StateHandle``; everything below takes the handle as an argument
and asks it for the opened state when, and only if, it needs it. So a command that never mints
never opens the database, and two operations of one terminal app share one opened state
instead of opening it each time. The front end closes the handle when it is done.

A front end that lives long but mints now and then (``broker refresh --watch``,
``broker serve-credentials``) does its work in rounds (``with handle.round():``): the state
opened inside a round is closed when the last round running at that moment ends, and the next
round opens it afresh. So no database connection sits idle between rounds, where a PostgreSQL
server that drops idle sessions, restarts or fails over would leave it broken for the next
mint. What a caller built over an opened state (a minter holding its stores) belongs to that
opening: ``generation`` tells it when to build again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.sts.state import StsState

__all__ = ["StateHandle", "StateOpener", "open_for_one_process"]

StateOpener = Callable[[str | None, Path], "StsState"]
"""Opens the state of a configured database URL (or None: the data directory's SQLite)."""


def open_for_one_process(database_url: str | None, data_dir: Path) -> StsState:
    """``open_sts_state`` with one connection: what a command or the terminal app needs."""
    from broker.sts.state import open_sts_state

    return open_sts_state(database_url, data_dir, pool_size=1)


class StateHandle:
    """The data directory, the configured database URL, and the state they name, opened lazily.

    Thread-safe: the terminal app's workers may ask for the state at the same time; it is
    opened once.
    """

    def __init__(
        self,
        data_dir: Path,
        database_url: str | None,
        opener: StateOpener = open_for_one_process,
    ) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self._opener = opener
        self._state: StsState | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._rounds = 0
        self._generation = 0

    def state(self) -> StsState:
        """The opened state (opened now on first call).

        Raises:
            ConfigError: unreachable database, or a schema behind or ahead of this broker.
            StateStoreUnavailableError: opening it again after a round failed (the database
                worked before: down, restarting or failing over; a later round retries).
            RuntimeError: the handle was closed (a bug in the front end).
        """
        from broker.errors import ConfigError, StateStoreUnavailableError

        with self._lock:
            if self._closed:
                raise RuntimeError("the state handle was closed")
            if self._state is None:
                try:
                    self._state = self._opener(self.database_url, self.data_dir)
                except StateStoreUnavailableError:
                    raise
                except ConfigError as exc:
                    if self._generation == 0:
                        raise
                    raise StateStoreUnavailableError(str(exc)) from None
            return self._state

    @property
    def opened(self) -> bool:
        """Whether the state has been opened (and not yet closed)."""
        return self._state is not None

    @property
    def generation(self) -> int:
        """How many times an opened state was closed at the end of a round: anything built
        over the state of an earlier generation holds closed stores and must be built again."""
        return self._generation

    @contextmanager
    def round(self) -> Iterator[None]:
        """One round of work (a refresh round, one served request): the state, if opened
        while it runs, is closed when the last round running at the same time ends.

        Raises:
            RuntimeError: the handle was closed (a bug in the front end).
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the state handle was closed")
            self._rounds += 1
        try:
            yield
        finally:
            with self._lock:
                self._rounds -= 1
                ended: StsState | None = None
                if self._rounds == 0 and self._state is not None:
                    ended, self._state = self._state, None
                    self._generation += 1
            if ended is not None:
                ended.close()

    def close(self) -> None:
        """Close the state if it was opened; later ``state()`` calls are refused."""
        with self._lock:
            self._closed = True
            state, self._state = self._state, None
        if state is not None:
            state.close()

    def __enter__(self) -> StateHandle:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
