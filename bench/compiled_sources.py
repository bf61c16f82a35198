"""Byte-compile the broker's own modules before a start-up benchmark.

`pip install` writes each module's bytecode when it installs a wheel, so an installed `broker`
never compiles its sources at start. A checkout installed editable has none until a process
writes it, and this machine sets ``PYTHONDONTWRITEBYTECODE=1``, so without this step every timed
launch would compile every module it imports (20-30 ms of the TUI's first paint): a cost no
installed copy pays. Compiling once, as pip does, measures what users run.
"""

from __future__ import annotations

import compileall
from pathlib import Path

__all__ = ["compile_sources"]

ROOT = Path(__file__).resolve().parent.parent


def compile_sources() -> None:
    """Write bytecode for ``broker/`` and ``providers/`` (quietly; an error is an exception)."""
    for package in ("broker", "providers"):
        if not compileall.compile_dir(ROOT / package, quiet=1):
            raise SystemExit(f"bench: could not byte-compile {package}/")
