"""The real ``broker`` command in a real terminal: tmux runs it at 100×30, keys go in with
``send-keys``, and ``capture-pane`` shows what a person would see.

The first test covers start-up on the demo config (welcome naming the demo users, then the
portal), the ``:`` command line into the policy simulator and back, help, the size guard, and a
clean exit. The second is the issue's whole path: sign in as a demo user through the embedded
IdP, filter the portal, mint a 1-hour session, see it under Sessions, then the real AWS CLI
calls ``broker serve`` (sharing the same BROKER_HOME, so the same signing keys and audit chain)
through the profile ``broker configure aws`` wrote, served from what the TUI cached.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.store.credential_store import CredentialStore
from tests.conftest import CONFIG, REPO
from tests.integration.conftest import BrokerServer, start_server, stop_server

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


def open_broker(server: Tmux, broker_home: Path, config: Path = CONFIG) -> None:
    """Start the real ``broker`` (the app) in ``server``'s window ``app``, 100×30."""
    env = {
        "BROKER_HOME": str(broker_home),
        "BROKER_CONFIG": str(config),
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


@pytest.fixture
def tmux(broker_home: Path) -> Iterator[Tmux]:
    socket = f"broker-test-{uuid.uuid4().hex[:8]}"
    server = Tmux(socket)
    open_broker(server, broker_home)
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


PROFILE = "analytics-dev.DataScientist"  # the assignment-profile name of carol's role


@pytest.fixture
def served(secret_service: None, broker_home: Path) -> Iterator[BrokerServer]:
    """``broker serve`` on 127.0.0.1 over this test's BROKER_HOME (the TUI's too)."""
    process, server = start_server(broker_home)
    try:
        yield server
    finally:
        stop_server(process)


def test_sign_in_mint_and_use_from_a_real_terminal(
    served: BrokerServer, tmux: Tmux, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    tmux.wait_for("Welcome to Access Broker")
    tmux.keys("Escape")
    tmux.wait_for("Not signed in")
    tmux.keys("s")
    tmux.wait_for("choose an identity provider")
    tmux.keys("Enter")
    time.sleep(0.5)  # the demo user picker filters as you type once it is open
    tmux.keys("carol")
    tmux.keys("Enter")
    tmux.wait_for("Accounts(2/2)", timeout=40)
    tmux.keys("/")
    time.sleep(0.3)
    tmux.keys("analytics")
    shown = tmux.wait_for("Accounts(1/2)")
    assert "analytics-dev" in shown
    tmux.keys("Enter")
    time.sleep(0.3)
    tmux.keys("m")
    tmux.wait_for("Mint DataScientist")
    time.sleep(0.5)  # the dialog focuses its duration field once mounted
    tmux.keys("Tab")
    tmux.keys("tmux end-to-end check")
    tmux.keys("Enter")  # the duration field holds the default, 1h
    shown = tmux.wait_for("credential_process (recommended)", timeout=40)
    # The line names this broker by absolute path, so it may wrap: read it unwrapped.
    assert f"--profile{PROFILE}" in "".join(shown.split())
    tmux.keys("Escape")
    tmux.wait_gone("Portal › Credentials")  # ESC then ':' at once would read as alt+:
    shown = tmux.wait_for("1 live")
    assert "✓ 59m" in shown  # the portal row counts down too
    tmux.keys(":")
    time.sleep(0.5)
    tmux.keys("sessions", "Enter")
    shown = tmux.wait_for(PROFILE)
    assert "Sessions(1 live/1)" in shown
    row = next(line for line in shown.splitlines() if PROFILE in line)
    assert "analytics-dev" in row and "✓ 59m" in row, row
    cached = CredentialStore(broker_home).credentials(PROFILE)
    assert cached is not None

    aws_config = tmp_path / "aws-config"
    configured = run_broker(
        "configure",
        "aws",
        "--file",
        str(aws_config),
        "--command-path",
        f"{sys.executable} -m broker",
    )
    assert configured.returncode == 0, configured.stderr
    assert f"[profile {PROFILE}]" in aws_config.read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(aws_config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_DEFAULT_REGION="us-east-1",
        PYTHONPATH=str(REPO),
    )
    who = subprocess.run(
        [
            str(Path(sys.executable).with_name("aws")),
            "sts",
            "get-caller-identity",
            "--profile",
            PROFILE,
            "--endpoint-url",
            served.url,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert who.returncode == 0, who.stderr
    arn = json.loads(who.stdout)["Arn"]
    assert ":assumed-role/AWSReservedSSO_DataScientist_" in arn, arn
    assert arn.endswith("/carol@example.com"), arn
    after = CredentialStore(broker_home).credentials(PROFILE)
    assert after is not None and after.access_key_id == cached.access_key_id  # from the cache

    tmux.keys("Escape")
    tmux.wait_gone("Portal › Sessions")
    tmux.keys("q")
    shown = tmux.wait_for("EXITED=")
    assert "EXITED=0" in shown and "Traceback" not in shown
