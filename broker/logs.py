"""The broker's log file: where tracebacks and diagnostics go instead of the terminal.

Messages never carry secrets; this module only decides where they are written (a 0600 file
in a 0700 directory under the data directory). A log directory or file that others can read,
or a log path that is a symlink, is refused rather than used (docs/security.md, "Files we write"):
``mkdir``/``open`` with a mode only set it on creation, so an existing one is checked.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import TextIO

from broker.errors import StoreError
from broker.private_dirs import make_private_dirs

__all__ = ["log_file"]

_configured: tuple[Path, logging.StreamHandler[TextIO]] | None = None


def _private_directory(directory: Path) -> None:
    # The data directory too is created 0700 (``parents=True`` alone would use the umask).
    make_private_dirs(directory)
    info = directory.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise StoreError(f"{directory} is not a directory of yours; remove it and retry")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise StoreError(
            f"{directory} is open to other users; run `chmod 700 {directory}` and retry"
        )


def _open_private(path: Path) -> int:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise StoreError(
            f"cannot open the log file {path} ({exc.strerror}); remove it and retry"
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077:
        os.close(fd)
        raise StoreError(f"{path} is readable by others; run `chmod 600 {path}` and retry")
    return fd


def log_file(data_dir: Path) -> Path:
    """Configure the ``broker`` logger to append to ``<data_dir>/logs/broker.log``; return the
    path (the data directory is the front end's: the command line's, the terminal app's).

    Raises:
        StoreError: the log directory or file is open to other users, or not ours.
    """
    global _configured
    directory = data_dir / "logs"
    path = directory / "broker.log"
    logger = logging.getLogger("broker")
    if _configured is not None:
        if _configured[0] == path:
            return path
        logger.removeHandler(_configured[1])
        _configured[1].close()
        _configured[1].stream.close()  # StreamHandler.close leaves its stream open
        _configured = None
    _private_directory(directory)
    stream: TextIO = os.fdopen(_open_private(path), "a", encoding="utf-8")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    _configured = (path, handler)
    return path
