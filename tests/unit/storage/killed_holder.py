"""A Python process that holds something (a transaction, a lock) until it is killed."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def held_until_killed(script: str, ready: str) -> Iterator[None]:
    """Run ``script`` in a fresh Python, wait until it prints ``ready``, run the block while it
    holds, then SIGKILL it (no cleanup of its own runs) and wait for it to be gone."""
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == ready
            yield
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
