"""The one server-side state as the CLI's commands open it: once per command, passed down.

The configured database is ``--database-url`` (the CLI entry puts it in the environment for
the process) or ``$BROKER_DATABASE_URL`` (``broker.config.loader.configured_database_url``);
without one, the embedded SQLite of the data directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from broker.sts.state import StsState
    from broker.sts.state_handle import StateHandle

__all__ = ["command_state", "opened_state"]


@contextmanager
def opened_state(*, pool_size: int = 1) -> Iterator[StsState]:
    """The state for one command, closed when the command is done.

    Raises:
        ConfigError: unreachable database, or a schema behind or ahead of this broker.
    """
    from broker.config.loader import configured_database_url, data_dir
    from broker.sts.state import open_sts_state

    state = open_sts_state(configured_database_url(), data_dir(), pool_size=pool_size)
    try:
        yield state
    finally:
        state.close()


def command_state() -> StateHandle:
    """This command's data directory and configured database, the state opened only if a step
    below needs it (a mint, an audit record); use it in a ``with`` block to close it."""
    from broker.config.loader import configured_database_url, data_dir
    from broker.sts.state_handle import StateHandle

    return StateHandle(data_dir(), configured_database_url())
