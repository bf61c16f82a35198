"""The broker's processes take turns with the Secret Service (see ``broker.keyring_gate.gate``):
gnome-keyring-daemon aborts under many concurrent clients, so a keyring call waits while
another broker process holds the turn, and only then talks to the daemon."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.keyring]

CALLER = """
import time
from broker.keyring_gate.gate import KeyringGate
print(time.time(), flush=True)  # about to ask
found = KeyringGate("access-broker-turns-test").call("get_password", "nobody")
print(time.time(), found, flush=True)
"""


def _wait_until_it_waits_on(lock: Path, pid: int) -> None:
    """Until process ``pid`` has the lock file open (it is waiting for the turn)."""
    deadline = time.monotonic() + 30
    fds = Path(f"/proc/{pid}/fd")
    while True:
        try:
            if any(os.readlink(fd) == str(lock) for fd in fds.iterdir()):
                return
        except FileNotFoundError:  # a descriptor closed while we looked
            pass
        assert time.monotonic() < deadline, "the caller never waited for the turn"
        time.sleep(0.01)


def test_a_keyring_call_waits_for_the_turn_another_process_holds(secret_service: None) -> None:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    assert runtime, "run under scripts/with-keyring (it gives the tests a private runtime dir)"
    turn = Path(runtime) / "access-broker" / "secret-service.lock"
    turn.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(turn, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        caller = subprocess.Popen([sys.executable, "-c", CALLER], stdout=subprocess.PIPE, text=True)
        assert caller.stdout is not None
        asked = float(caller.stdout.readline().split()[0])
        _wait_until_it_waits_on(turn, caller.pid)
        released = time.time()
    finally:
        os.close(fd)  # releases the turn
    out, _ = caller.communicate(timeout=60)
    assert caller.returncode == 0
    finished, found = out.split()
    assert found == "None"  # it did reach the Secret Service, after the turn was free
    assert asked < released <= float(finished)
