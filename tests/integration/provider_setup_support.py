"""Shared by the provider setup's end-to-end tests (OIDC and SAML peers): a private copy of
the shipped configuration to write into, and waiting on what the screen says."""

from __future__ import annotations

import dataclasses
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import CONFIG, REPO
from tests.functional.screen_text import flat_text

if TYPE_CHECKING:
    from tests.integration.test_tui_tmux import Tmux


def user_config(tmp_path: Path, broker_home: Path) -> Path:
    """A copy of the shipped configuration (BROKER_CONFIG is the caller's to set), welcome seen."""
    from broker.tui.state import load_state, save_state

    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    save_state(broker_home, dataclasses.replace(load_state(broker_home), welcome_seen=True))
    return config


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def until(pilot, check, what: str, tries: int = 400) -> None:
    for _ in range(tries):  # bounded: real HTTP to the peer and a real sign-in
        await pilot.pause(0.05)
        if check():
            return
    raise AssertionError(f"{what} did not happen; screen: {flat_text(pilot.app)}")


def validate_agrees() -> None:
    """The real ``broker config validate`` on BROKER_CONFIG finds no error."""
    done = subprocess.run(
        [sys.executable, "-m", "broker", "config", "validate"],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "configuration valid: 0 error(s)" in done.stderr


@contextmanager
def broker_in_tmux(env: dict[str, str]) -> Iterator[Tmux]:
    """The real ``broker`` in a private tmux server at 100×30, with ``env`` (no display, no
    SSH, and pytest's COLUMNS/LINES left out: they would pin Textual's idea of the size)."""
    from tests.integration.test_tui_tmux import Tmux

    socket = f"broker-setup-{uuid.uuid4().hex[:8]}"
    server = Tmux(socket)
    full = {
        "PYTHONPATH": str(REPO),
        "TERM": "xterm-256color",
        "DBUS_SESSION_BUS_ADDRESS": os.environ.get("DBUS_SESSION_BUS_ADDRESS", ""),
        **env,
    }
    command = (
        "env -u COLUMNS -u LINES -u DISPLAY -u WAYLAND_DISPLAY -u SSH_CONNECTION "
        + " ".join(f"{k}={shlex.quote(v)}" for k, v in full.items())
        + f" {shlex.quote(sys.executable)} -m broker; echo EXITED=$?; sleep 30"
    )
    server.run("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", command)
    try:
        server.run("set-option", "-t", "app", "window-size", "manual")
        server.run("resize-window", "-t", "app", "-x", "100", "-y", "30")
        yield server
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)


def at_a_persons_pace(tmux: Tmux, text: str, *then: str) -> None:
    """Type ``text``, then press the keys ``then``, pausing as a person does in between (the
    screen settles before the next key)."""
    time.sleep(0.5)
    if text:
        tmux.keys(text)
    for key in then:
        time.sleep(0.5)
        tmux.keys(key)
