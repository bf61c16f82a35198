"""The real ``broker`` command in a real terminal: tmux runs it at 100×30, keys go in with
``send-keys``, and ``capture-pane`` shows what a person would see.

What it covers now: start-up on the demo config (welcome naming the demo users, then the
portal), the ``:`` command line into the policy simulator and back, help, the size guard, and a
clean exit. Signing in, minting and Sessions join this test when the sign-in, STS and store
issues land (the issue's full end-to-end path).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CONFIG, REPO

pytestmark = pytest.mark.integration


class Tmux:
    """One private tmux server (its own socket) running one window."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "app", *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "app")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not shown within {timeout} s; screen:\n{shown}")

    def wait_gone(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if text not in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} still shown after {timeout} s; screen:\n{shown}")


@pytest.fixture
def tmux(broker_home: Path) -> Iterator[Tmux]:
    socket = f"broker-test-{uuid.uuid4().hex[:8]}"
    server = Tmux(socket)
    env = {
        "BROKER_HOME": str(broker_home),
        "BROKER_CONFIG": str(CONFIG),
        "PYTHONPATH": str(REPO),
        "TERM": "xterm-256color",
    }
    # COLUMNS/LINES inherited from pytest would pin Textual's idea of the terminal size
    command = (
        "env -u COLUMNS -u LINES "
        + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        + f" {shlex.quote(sys.executable)} -m broker; echo EXITED=$?; sleep 30"
    )
    server.run("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", command)
    server.run("set-option", "-t", "app", "window-size", "manual")
    server.run("resize-window", "-t", "app", "-x", "100", "-y", "30")
    try:
        yield server
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)


def test_broker_opens_the_portal_in_a_real_terminal(tmux: Tmux, broker_home: Path) -> None:
    shown = tmux.wait_for("Welcome to Access Broker")
    assert "alice" in shown and "Demo users:" in shown
    tmux.keys("Escape")
    tmux.wait_gone("Welcome to Access Broker")
    shown = tmux.wait_for("Not signed in")
    assert "broker  Portal" in shown
    assert "Accounts(0/0)" in shown
    assert (broker_home / "tui-state.json").stat().st_mode & 0o077 == 0

    tmux.keys("?")
    tmux.wait_for("Keys and colours")
    # the size guard works under a dialog too
    tmux.run("resize-window", "-t", "app", "-x", "70", "-y", "20")
    tmux.wait_for("Terminal too small: 70×20")
    tmux.run("resize-window", "-t", "app", "-x", "100", "-y", "30")
    tmux.wait_for("Keys and colours")
    tmux.keys("Escape")
    tmux.wait_gone("Keys and colours")

    tmux.run("resize-window", "-t", "app", "-x", "70", "-y", "20")
    tmux.wait_for("Terminal too small: 70×20")
    tmux.run("resize-window", "-t", "app", "-x", "100", "-y", "30")
    tmux.wait_for("Not signed in")

    tmux.keys(":")
    time.sleep(0.5)  # a person types after the prompt opens; keys sent before it go elsewhere
    tmux.keys("sim", "Enter")
    shown = tmux.wait_for("Policy simulator")
    assert "Portal › Simulator" in shown
    tmux.keys("Escape")
    tmux.wait_for("Not signed in")

    tmux.keys("q")
    shown = tmux.wait_for("EXITED=")
    assert "EXITED=0" in shown
    assert "Traceback" not in shown
