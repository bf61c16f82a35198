"""The guided provider setup (``:providers``) end to end against the real OIDC peer: discovery
checked live, a test sign-in through the peer's login pages, the identity mapping previewed
from the signed-in person's claims, and the tables written with backups, after which
``broker config validate`` (the real command) agrees and ``broker login`` can use them.

The person's browser is the peer suite's ``Browser``: it follows the authorization URL the app
opens, fills the peer's login and consent forms, and lands on the broker's loopback callback.
"""

from __future__ import annotations

import threading
import tomllib
from pathlib import Path

import httpx
import pytest

from broker.tui.app import BrokerApp, app_services
from broker.tui.options import TuiOptions
from broker.tui.screens.provider_setup import ProviderSetupScreen
from tests.conftest import CONFIG
from tests.functional.screen_text import flat_text
from tests.integration import provider_setup_support as support
from tests.integration.oidc.conftest import Browser, Peer

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_home: Path) -> Path:
    config = support.user_config(tmp_path, broker_home)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    return config


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The app's "open a browser" walks the peer's pages in a thread, as a person would."""
    opened: list[str] = []

    def open_url(url: str) -> bool:
        opened.append(url)
        redirect = dict(httpx.URL(url).params)["redirect_uri"]
        threading.Thread(target=Browser("alice").walk, args=(url, redirect), daemon=True).start()
        return True

    monkeypatch.setattr("broker.tui.screens.signin.webbrowser.open", open_url)
    return opened


_until = support.until
_text = support.shown


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_oidc_provider_set_up_from_the_tui(
    oidc_peer: Peer, user_config: Path, broker_home: Path, browser: list[str], size
) -> None:
    app = BrokerApp(app_services(), TuiOptions())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("colon", *"providers", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProviderSetupScreen)
        await pilot.press(*"corp")
        screen.query_one("#setup-issuer").focus()
        await pilot.press(*oidc_peer.issuer, "enter")
        await _until(pilot, lambda: "✓ discovery checked" in _text(screen, "#discovery-result"),
                     "discovery")  # fmt: skip
        assert oidc_peer.issuer in _text(screen, "#discovery-result")
        await pilot.press(*"broker-rs256")  # focus moved to the client id
        await pilot.press("ctrl+t")
        await _until(pilot, lambda: "✓ Signed in" in _text(screen, "#signin-result"), "sign-in")
        signed = _text(screen, "#signin-result")
        assert "email alice@example.com" in signed and "platform-admins" in signed
        assert browser and browser[0].startswith(oidc_peer.issuer)
        # The mapping: email names the user; the peer's groups map to directory groups.
        screen.query_one("#setup-group-map").focus()
        await pilot.press(*"engineering=engineering", "enter")
        await _until(pilot, lambda: "Would get:" in _text(screen, "#preview"), "preview")
        preview = _text(screen, "#preview")
        assert "directory user alice" in preview and "engineering" in preview
        assert "@ " in preview  # at least one permission set on an account
        await pilot.press("ctrl+s")
        await _until(pilot, lambda: "✓ Wrote" in _text(screen, "#write-result"), "write")
    written = tomllib.loads((user_config / "broker.toml").read_text())
    assert written["providers"]["corp"] == {
        "type": "oidc",
        "issuer": oidc_peer.issuer,
        "client_id": "broker-rs256",
        "groups_claim": "groups",
        "scopes": ["openid", "email", "profile", "offline_access", "groups"],  # offered: asked
    }
    identity = tomllib.loads((user_config / "directory" / "identity.toml").read_text())
    assert identity["identity"]["corp"]["user_claim"] == "email"
    assert identity["identity"]["corp"]["group_map"] == {"engineering": "engineering"}
    backup = user_config / "broker.toml.broker-backup"
    assert backup.read_text() == (CONFIG / "broker.toml").read_text()
    assert (user_config / "directory" / "identity.toml.broker-backup").read_text() == (
        CONFIG / "directory" / "identity.toml"
    ).read_text()
    support.validate_agrees()


async def test_a_wrong_issuer_is_refused_before_anything_is_written(
    oidc_peer: Peer, user_config: Path, broker_home: Path
) -> None:
    before = (user_config / "broker.toml").read_text()
    app = BrokerApp(app_services(), TuiOptions())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.go("providers")
        await pilot.pause()
        screen = app.screen
        await pilot.press(*"corp")
        screen.query_one("#setup-issuer").focus()
        await pilot.press(*(oidc_peer.issuer + "/nowhere"), "enter")
        await _until(pilot, lambda: "✗" in _text(screen, "#discovery-result"), "refusal")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "check the issuer first" in flat_text(app)
    assert (user_config / "broker.toml").read_text() == before
    assert not (user_config / "broker.toml.broker-backup").exists()
