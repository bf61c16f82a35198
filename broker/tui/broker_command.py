"""Which ``broker`` a copied ``credential_process`` line should run: the one running now, by
absolute path, as ``broker configure aws`` writes it (no Textual here).

Why: the AWS CLI runs ``credential_process`` under whatever PATH its caller has (an IDE, cron,
a service), which may find another installation or none; an absolute path runs this one.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

__all__ = ["running_broker_command"]


def running_broker_command() -> str:
    """A shell-quoted command that runs this broker: the ``broker`` script this process was
    started as, else the one beside this Python, else ``broker`` on PATH, else ``python -m
    broker`` with this Python's absolute path."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    candidates = [started] if started is not None and started.name == "broker" else []
    candidates.append(Path(sys.executable).parent / "broker")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return shlex.quote(os.path.abspath(candidate))
    found = shutil.which("broker")
    if found:
        return shlex.quote(os.path.abspath(found))
    return f"{shlex.quote(os.path.abspath(sys.executable))} -m broker"
