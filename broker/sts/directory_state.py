"""A directory over the one state, for a front end that has not opened the state for anything else.

``load_directory`` takes the state's database from its caller; a command that needs only the
directory (``broker directory users``, a TUI data screen) opens the state here and gets a
directory that closes the state with itself. A front end that holds a state already passes
``state.shared.database`` to ``load_directory`` instead.
"""

from __future__ import annotations

from pathlib import Path

from broker.directory import Directory, load_directory
from broker.storage.url import DatabaseUrl
from broker.sts.state import open_sts_state

__all__ = ["open_directory"]


def open_directory(
    config_dir: Path, data_dir: Path, configured_url: str | DatabaseUrl | None
) -> Directory:
    """The directory of ``config_dir`` over the state ``configured_url`` names (read by the
    front end), else ``<data_dir>/broker.db``; closing the directory closes that state.

    Raises:
        InvalidDirectoryError, DirectoryError: as ``load_directory``.
        ConfigError: as ``open_sts_state``.
    """
    state = open_sts_state(configured_url, data_dir, pool_size=2)
    try:
        directory = load_directory(config_dir, state.shared.database)
    except BaseException:
        state.close()
        raise
    directory.add_on_close(state.close)
    return directory
