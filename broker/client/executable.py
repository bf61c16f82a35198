"""Which ``broker`` the AWS CLI should run: the absolute path of the one running now.

Why: ``credential_process = broker ...`` depends on the PATH of whatever process the AWS CLI
or an SDK runs under (IDEs, cron, systemd), and may find another installation or none. Like
other credential helpers, ``configure aws`` writes the absolute path of the running command,
and warns when that command lives somewhere that will vanish (a temporary virtual
environment, ``pipx run``'s cache, a ``/tmp`` checkout).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["running_broker_command", "temporary_location"]


def _running_script() -> Path | None:
    """The ``broker`` console script this process was started as, if it was."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if started is not None and started.name == "broker" and started.is_file():
        return Path(os.path.abspath(started))
    # ``python -m broker`` from an environment that has the script: the one beside python.
    beside = Path(sys.executable).parent / "broker"
    if beside.is_file() and os.access(beside, os.X_OK):
        return Path(os.path.abspath(beside))
    return None


def running_broker_command() -> str:
    """A shell-quoted command line that runs this very broker."""
    script = _running_script()
    if script is not None:
        return shlex.quote(str(script))
    found = shutil.which("broker")
    if found:
        return shlex.quote(os.path.abspath(found))
    return f"{shlex.quote(str(Path(sys.executable).absolute()))} -m broker"


def temporary_location(command: str) -> str | None:
    """Why ``command`` (as written) looks short-lived, or None when it does not."""
    try:
        first = Path(shlex.split(command)[0])
    except (ValueError, IndexError):
        return None
    parts = first.parts
    roots = {Path(tempfile.gettempdir()), Path("/tmp"), Path("/var/tmp")}  # noqa: S108
    for root in roots:
        if first.is_relative_to(root):
            return f"it is under the temporary directory {root}"
    if ".cache" in parts and ("pipx" in parts or "uv" in parts):
        return "it is in a tool cache (`pipx run`/`uvx`), which is cleaned up"
    if not first.is_absolute():
        return "it is not an absolute path, so it depends on the caller's PATH"
    return None
