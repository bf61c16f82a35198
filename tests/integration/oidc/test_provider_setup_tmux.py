"""The provider setup in the real ``broker`` in tmux against the real OIDC peer: a person
types the issuer, the client id, presses ctrl+t and signs in with their browser (``$BROWSER``
here is a script that walks the peer's login pages), and ctrl+s writes the configuration,
which the real ``broker config validate`` and ``broker providers`` then agree with."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration import provider_setup_support as support
from tests.integration.oidc.conftest import Peer
from tests.integration.test_tui_tmux import Tmux
from tests.integration.tmux_support import peer_browser

pytestmark = pytest.mark.integration


@pytest.fixture
def setup_tmux(tmp_path: Path, broker_home: Path) -> Iterator[tuple[Tmux, Path, Path]]:
    config = support.user_config(tmp_path, broker_home)
    browser, opened = peer_browser(tmp_path)
    env = {"BROKER_HOME": str(broker_home), "BROKER_CONFIG": str(config), **browser}
    with support.broker_in_tmux(env) as tmux:
        yield tmux, config, opened


def test_oidc_provider_set_up_in_a_real_terminal(
    oidc_peer: Peer, setup_tmux: tuple[Tmux, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    tmux, config, opened = setup_tmux
    tmux.wait_for("Not signed in", timeout=30)
    tmux.keys(":")
    time.sleep(0.5)  # a person types after the prompt opens
    tmux.keys("providers", "Enter")
    tmux.wait_for("Add a sign-in provider")
    support.at_a_persons_pace(tmux, "corp", "Enter")  # enter goes on to the issuer
    support.at_a_persons_pace(tmux, oidc_peer.issuer, "Enter")
    tmux.wait_for("discovery checked", timeout=30)
    support.at_a_persons_pace(tmux, "broker-rs256", "C-t")  # the client id box has the focus
    shown = tmux.wait_for("Signed in: sub alice", timeout=60)
    assert "email alice@example.com" in shown
    assert opened.read_text().startswith(oidc_peer.issuer)
    tmux.wait_for("Would get:", timeout=60)
    support.at_a_persons_pace(tmux, "", "C-s")
    tmux.wait_for("Wrote [providers.corp]", timeout=60)
    tmux.keys("C-q")
    shown = tmux.wait_for("EXITED=")
    assert "EXITED=0" in shown and "Traceback" not in shown
    written = tomllib.loads((config / "broker.toml").read_text())["providers"]["corp"]
    assert written["issuer"] == oidc_peer.issuer and written["client_id"] == "broker-rs256"
    assert (config / "broker.toml.broker-backup").exists()
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    support.validate_agrees()
