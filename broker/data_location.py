"""Where the broker's data lives: ``$BROKER_HOME`` or the platform's user data directory.

Resolved by the front ends only (the command line, its ``credential-process`` fast path, the
terminal app, ``broker serve``), once, and passed down. Kept apart from ``broker.config`` with
nothing but the standard library (and ``platformdirs`` when no ``BROKER_HOME`` is set), so the
``credential-process`` fast path can resolve it without importing the configuration code.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["APP_NAME", "data_dir"]

APP_NAME = "access-broker"
"""The application's name in the platform's directories."""


def data_dir() -> Path:
    """The per-user data directory (``$BROKER_HOME`` or the platform default), not created here."""
    home = os.environ.get("BROKER_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs  # imported here: only commands that touch data need it

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
