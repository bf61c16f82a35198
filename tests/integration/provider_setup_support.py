"""Shared by the provider setup's end-to-end tests (OIDC and SAML peers): a private copy of
the shipped configuration to write into, and waiting on what the screen says."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import CONFIG, REPO
from tests.functional.screen_text import flat_text


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
