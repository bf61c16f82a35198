"""Shared by the tests that drive the real ``broker`` app in tmux through a sign-in and a mint
(``support.broker_in_tmux`` starts it): a browser that walks the OIDC peer's pages, and the
steps every such test ends with."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.integration.test_tui_tmux import Tmux

# $BROWSER for the app: returns at once, as a browser does, and walks the peer's login pages in
# the background as alice; each address it was given is appended to $OPENED_LOG.
BROWSER_SCRIPT = """\
import os, sys, subprocess
if os.environ.get("WALKING") != "1":  # return at once, as a browser does; walk in the background
    subprocess.Popen([sys.executable, __file__, *sys.argv[1:]], start_new_session=True,
                     env={**os.environ, "WALKING": "1"})
    raise SystemExit(0)
import httpx
from tests.integration.oidc.conftest import Browser
url = sys.argv[1]
open(os.environ["OPENED_LOG"], "a").write(url + "\\n")
Browser("alice").walk(url, dict(httpx.URL(url).params)["redirect_uri"])
"""


def peer_browser(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment that makes the app's browser ``BROWSER_SCRIPT``, and its log."""
    script = tmp_path / "browser.py"
    script.write_text(BROWSER_SCRIPT)
    opened = tmp_path / "opened.log"
    return {"BROWSER": f"{sys.executable} {script} %s", "OPENED_LOG": str(opened)}, opened


def welcome_seen(broker_home: Path) -> None:
    """Start on the portal: the one-time welcome is for the demo configuration."""
    from broker.tui.state import TuiState, save_state

    save_state(broker_home, TuiState(welcome_seen=True))


def back_to_portal(tmux: Tmux) -> str:
    """``esc`` from the mint's result; waits until it is gone, since ESC and the next key sent
    at once would read as alt+key. Returns the portal as shown."""
    tmux.keys("Escape")
    return tmux.wait_gone("credential_process (recommended)")


def quit_cleanly(tmux: Tmux) -> None:
    """``q`` at the portal: the app exits 0 without a traceback."""
    tmux.keys("q")
    shown = tmux.wait_for("EXITED=")
    assert "EXITED=0" in shown and "Traceback" not in shown, shown
