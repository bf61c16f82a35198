"""Waiting for a condition, not for time: poll ``predicate`` until it holds or fail naming it.

Why: a test that sleeps "long enough" for something to happen is slow when the machine is
quiet and flaky when it is loaded. A test waits for what it needs (answers seen, refusals
seen, a process ready), with a deadline only as the point at which it fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["wait_until"]


def wait_until(predicate: Callable[[], bool], what: str, *, timeout: float = 30.0) -> None:
    """Return once ``predicate()`` is true; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)
