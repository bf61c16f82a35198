"""The one state as a front end hands it down: where it is, opened on first need, closed once.

A front end (a command, the terminal app) resolves the data directory and the configured
database once and makes one ``StateHandle``; everything below takes the handle as an argument
and asks it for the opened state when, and only if, it needs it. So a command that never mints
never opens the database, and two operations of one terminal app share one opened state
instead of opening it each time. The front end closes the handle when it is done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
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

    def state(self) -> StsState:
        """The opened state (opened now on first call).

        Raises:
            ConfigError: unreachable database, or a schema behind or ahead of this broker.
            RuntimeError: the handle was closed (a bug in the front end).
        """
        with self._lock:
            if self._closed:
                raise RuntimeError("the state handle was closed")
            if self._state is None:
                self._state = self._opener(self.database_url, self.data_dir)
            return self._state

    @property
    def opened(self) -> bool:
        """Whether the state has been opened (and not yet closed)."""
        return self._state is not None

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
