"""Named points inside the store where a test can have the process killed (``SIGKILL``).

Why: a store is only crash-safe if every interruption between its steps leaves something the
next open repairs. The crash-safety tests run real ``broker`` processes with
``BROKER_TEST_CRASH_AT=<point>`` for every point in ``POINTS`` and check what survives. Unset
(always, outside those tests), a point costs one environment lookup. With
``BROKER_TEST_CRASH_SIGNAL=INT`` the process gets ``SIGINT`` instead, as from Ctrl-C.
"""

from __future__ import annotations

import os
import signal

__all__ = ["POINTS", "crash_point"]

ENV = "BROKER_TEST_CRASH_AT"
SIGNAL_ENV = "BROKER_TEST_CRASH_SIGNAL"

POINTS = (
    "intent-locked",  # the write's lock is held, nothing recorded yet
    "intent-written",  # the intent is on disk, the keyring not yet written
    "secret-written",  # the keyring entry is written, the index row not yet
    "row-written",  # the index row is written, the intent not yet removed
    "secret-deleted",  # forgetting: the keyring entry is gone, the index row not yet
    "recovered-one",  # recovery repaired one intent and has not yet removed it
    "legacy-importing",  # an old audit log's events are written, not yet committed
    "legacy-imported",  # an old state file's import is committed, the file not yet renamed
)


def crash_point(name: str) -> None:
    """Kill (or interrupt) this process here when ``BROKER_TEST_CRASH_AT`` names this point."""
    if os.environ.get(ENV) == name:
        interrupt = os.environ.get(SIGNAL_ENV) == "INT"
        if interrupt:
            # As Ctrl-C in a terminal: a process started in the background by a non-interactive
            # shell inherits SIGINT ignored, and the interrupt would never arrive.
            signal.signal(signal.SIGINT, signal.default_int_handler)
        os.kill(os.getpid(), signal.SIGINT if interrupt else signal.SIGKILL)
