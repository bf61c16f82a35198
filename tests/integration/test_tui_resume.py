"""The terminal app picks up what the CLI left: a session from ``broker login`` (it opens signed
in, as ``broker whoami`` says), and the welcome's "don't show again" from an earlier run; the
welcome's own "press s to sign in" works while it is open. Real ``broker`` in tmux."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_tui_tmux import Tmux, open_broker

pytestmark = [pytest.mark.integration, pytest.mark.keyring]


@pytest.fixture
def start_app(broker_home: Path) -> Iterator[object]:
    """``start_app()`` opens the real ``broker`` in a fresh tmux window (one at a time)."""
    servers: list[Tmux] = []

    def start() -> Tmux:
        if servers:
            subprocess.run(["tmux", "-L", servers[-1].socket, "kill-server"], timeout=10)
        server = Tmux(f"broker-resume-{uuid.uuid4().hex[:8]}")
        open_broker(server, broker_home)
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            subprocess.run(
                ["tmux", "-L", server.socket, "kill-server"], capture_output=True, timeout=10
            )


def test_s_on_the_welcome_opens_the_sign_in(start_app) -> None:
    app = start_app()
    app.wait_for("Welcome to Access Broker")
    app.keys("s")
    app.wait_for("choose an identity provider")
    app.wait_gone("Welcome to Access Broker")


def test_the_app_opens_signed_in_after_broker_login_and_remembers_the_welcome(
    secret_service: None, start_app, broker_home: Path, run_broker
) -> None:
    signed_in = run_broker("login", "demo", "--user-hint", "alice")
    assert signed_in.returncode == 0, signed_in.stderr
    assert "alice@example.com" in run_broker("whoami").stdout

    app = start_app()
    app.wait_for("Welcome to Access Broker")
    app.keys("Escape")  # "Don't show this again" is ticked by default
    app.wait_for("alice@example.com", timeout=40)  # the header, then the portal's roles:
    shown = app.wait_for("analytics-dev", timeout=40)  # one of alice's accounts
    assert "Not signed in" not in shown
    app.keys("q")
    assert "EXITED=0" in app.wait_for("EXITED=")

    again = start_app()
    shown = again.wait_for("alice@example.com", timeout=40)
    assert "Welcome to Access Broker" not in shown
    again.keys("q")
    assert "EXITED=0" in again.wait_for("EXITED=")
