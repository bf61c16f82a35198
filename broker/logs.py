"""The broker's log file: where tracebacks and diagnostics go instead of the terminal.

Messages never carry secrets; this module only decides where they are written (a 0600 file
in a 0700 directory under the data directory).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from broker.config.loader import data_dir

__all__ = ["log_file"]

_configured: Path | None = None


def log_file() -> Path:
    """Configure the ``broker`` logger to append to ``<data>/logs/broker.log``; return the path."""
    global _configured
    if _configured is not None:
        return _configured
    directory = data_dir() / "logs"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / "broker.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    handler = logging.StreamHandler(os.fdopen(fd, "a", encoding="utf-8"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("broker")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    _configured = path
    return path
