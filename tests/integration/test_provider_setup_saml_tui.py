"""The guided provider setup (``:providers``) end to end against the real SAML IdP peer
(pysaml2): its metadata read from a file, our SP metadata shown as the peer was given it, a
test sign-in through the peer's login form, the mapping previewed, the tables and the
metadata written with backups, and ``broker config validate`` agreeing."""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from textual.widgets import TextArea

from broker.tui.app import BrokerApp, app_services
from broker.tui.options import TuiOptions
from broker.tui.screens.provider_setup import ProviderSetupScreen
from tests.integration import provider_setup_support as support
from tests.integration.saml_peer import IDP_ENTITY, SP_ENTITY, Browser, RunningIdP, start_idp
from tests.saml_forge import idp_metadata, make_keypair

pytestmark = [pytest.mark.anyio, pytest.mark.integration]
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def saml_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIdP]:
    with start_idp(tmp_path_factory.mktemp("idp"), make_keypair("idp.example.test")) as running:
        yield running


@pytest.fixture
def metadata_file(saml_idp: RunningIdP, tmp_path: Path) -> Path:
    """The IdP's metadata as its administrator would hand it over: entity, SSO, certificate."""
    der = saml_idp.keys.cert.public_bytes(serialization.Encoding.DER)
    text = idp_metadata(IDP_ENTITY, der).replace(
        "</md:IDPSSODescriptor>",
        f'<md:SingleSignOnService Binding="{REDIRECT}" Location="{saml_idp.sso_url}"/>'
        "</md:IDPSSODescriptor>",
    )
    path = tmp_path / "idp-metadata.xml"
    path.write_text(text)
    return path


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch, saml_idp: RunningIdP) -> list[str]:
    """The app's "open a browser": log in at the peer and post its answer to our ACS."""
    opened: list[str] = []

    def walk(url: str) -> None:
        action, form = Browser(saml_idp, "alice").login(url)
        httpx.post(action, data=form, timeout=20)

    def open_url(url: str) -> bool:
        opened.append(url)
        threading.Thread(target=walk, args=(url,), daemon=True).start()
        return True

    monkeypatch.setattr("broker.tui.screens.signin.webbrowser.open", open_url)
    return opened


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_saml_provider_set_up_from_the_tui(
    saml_idp, metadata_file, browser, tmp_path, monkeypatch, broker_home, size
) -> None:
    config = support.user_config(tmp_path, broker_home)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    app = BrokerApp(app_services(), TuiOptions())
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.go("providers")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProviderSetupScreen)
        await pilot.press(*"corp-saml")
        screen.query_one("#setup-kind").value = "saml"
        await pilot.pause()
        screen.query_one("#setup-metadata").focus()
        await pilot.press(*str(metadata_file), "enter")
        await support.until(pilot, lambda: "✓ IdP" in support.shown(screen, "#metadata-result"),
                            "metadata")  # fmt: skip
        assert saml_idp.sso_url in support.shown(screen, "#metadata-result")
        screen.query_one("#setup-sp-entity").focus()
        await pilot.press(*SP_ENTITY)
        await pilot.pause()
        # Our SP metadata, exactly what the peer's administrator registered for us.
        shown_metadata = screen.query_one("#sp-metadata", TextArea).text
        registered = (saml_idp.cert_path.parent / "sp-metadata.xml").read_text()
        assert shown_metadata == registered
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.last_copied == registered
        await pilot.press("ctrl+t")
        await support.until(pilot, lambda: "✓ Signed in" in support.shown(screen, "#signin-result"),
                            "sign-in")  # fmt: skip
        signed = support.shown(screen, "#signin-result")
        assert "email alice@example.com" in signed and "engineering" in signed
        assert "sign-in MFA (amr): yes" in signed  # the peer's TimeSyncToken context for alice
        screen.query_one("#setup-group-map").focus()
        await pilot.press(*"engineering=engineering", "enter")
        await support.until(pilot, lambda: "Would get:" in support.shown(screen, "#preview"),
                            "preview")  # fmt: skip
        assert "directory user alice" in support.shown(screen, "#preview")
        await pilot.press("ctrl+s")
        await support.until(pilot, lambda: "✓ Wrote" in support.shown(screen, "#write-result"),
                            "write")  # fmt: skip
    written = tomllib.loads((config / "broker.toml").read_text())["providers"]["corp-saml"]
    assert written == {
        "type": "saml",
        "idp_entity_id": IDP_ENTITY,
        "sso_url": saml_idp.sso_url,
        "idp_certificate": "saml/corp-saml.xml",
        "sp_entity_id": SP_ENTITY,
        "groups_attribute": "groups",
    }
    assert (config / "saml" / "corp-saml.xml").read_bytes() == metadata_file.read_bytes()
    assert (config / "broker.toml.broker-backup").exists()
    support.validate_agrees()


SAML_BROWSER = """\
import os, sys, subprocess, types
if os.environ.get("WALKING") != "1":  # return at once, as a browser does; walk in the background
    subprocess.Popen([sys.executable, __file__, *sys.argv[1:]], start_new_session=True,
                     env={**os.environ, "WALKING": "1"})
    raise SystemExit(0)
import httpx
from tests.integration.saml_peer import Browser
idp = types.SimpleNamespace(base_url=os.environ["IDP_BASE_URL"])
action, form = Browser(idp, "alice").login(sys.argv[1])
httpx.post(action, data=form, timeout=20)
"""


def test_saml_provider_set_up_in_a_real_terminal(
    saml_idp, metadata_file, tmp_path, broker_home, monkeypatch
) -> None:
    import sys

    config = support.user_config(tmp_path, broker_home)
    browser = tmp_path / "browser.py"
    browser.write_text(SAML_BROWSER)
    env = {
        "BROKER_HOME": str(broker_home),
        "BROKER_CONFIG": str(config),
        "BROWSER": f"{sys.executable} {browser} %s",
        "IDP_BASE_URL": saml_idp.base_url,
    }
    _type = support.at_a_persons_pace
    with support.broker_in_tmux(env) as tmux:
        tmux.wait_for("Not signed in", timeout=30)
        _type(tmux, ":", "providers", "Enter")
        tmux.wait_for("Add a sign-in provider")
        _type(tmux, "corp-saml", "BTab", "Enter", "Down", "Enter")  # the type: SAML 2.0
        tmux.wait_for("IdP metadata: URL or file")
        _type(tmux, "", "Tab", "Enter")  # back to the name; enter goes on to the metadata
        _type(tmux, str(metadata_file), "Enter")
        tmux.wait_for("✓ IdP", timeout=30)
        _type(tmux, "", "Tab")  # our entity id, as the IdP's administrator registered it
        _type(tmux, SP_ENTITY, "C-t")
        shown = tmux.wait_for("Signed in: sub alice@example.com", timeout=60)
        assert "sign-in MFA (amr): yes" in shown
        tmux.wait_for("Would get:", timeout=60)
        _type(tmux, "", "C-s")
        tmux.wait_for("Wrote [providers.corp-saml]", timeout=60)
        _type(tmux, "", "C-q")
        shown = tmux.wait_for("EXITED=")
        assert "EXITED=0" in shown and "Traceback" not in shown
    written = tomllib.loads((config / "broker.toml").read_text())["providers"]["corp-saml"]
    assert written["idp_entity_id"] == IDP_ENTITY and written["sp_entity_id"] == SP_ENTITY
    assert (config / "saml" / "corp-saml.xml").read_bytes() == metadata_file.read_bytes()
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    support.validate_agrees()
