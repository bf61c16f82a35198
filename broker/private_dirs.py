"""Creating the broker's private directories: 0700 for the directory *and* every parent made.

``Path.mkdir(parents=True, mode=0o700)`` applies the mode to the last directory only; the
parents it creates get ``0777 & ~umask`` (usually 0755). The first process to touch a fresh
``BROKER_HOME`` would then leave the data directory world-readable, and every later process
that checks permissions would refuse it. Everything that creates a directory under the data
directory goes through here.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["make_private_dirs"]


def make_private_dirs(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700; existing ones are left as they are.

    Raises:
        OSError: a directory cannot be created (callers turn it into their own error).
    """
    missing = [p for p in (path, *path.parents) if not os.path.lexists(p)]
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass  # another process made it first
    return path
