"""The terminal app when an OIDC sign-in has ended: the refusal names the app's own key (``s``),
never the command line's ``broker login``, and that key opens this provider's sign-in and
starts it; once signed in again, the mint that was refused works.

Through real parts: the ``oidc-provider`` peer signs the person in (its login pages walked by
the app's "browser"), the session lives in the real Secret Service, the portal reads the
shipped directory and the local STS mints. In Pilot the dialog's ``esc`` then the status line
are checked; in tmux the key is pressed in the dialog, in a real terminal.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.functional.screen_text import flat_text
from tests.integration import provider_setup_support as support
from tests.integration.oidc.conftest import Peer
from tests.integration.oidc.test_provider_setup_tui import browser  # noqa: F401 (fixture)
from tests.integration.sign_in_again_support import (
    end_sign_in,
    shown_advice,
    signed_in_again,
    status_line,
    until,
)
from tests.integration.tmux_support import peer_browser, quit_cleanly

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

ENDED = "the corp session has ended: press s to sign in to corp again"


def corp_config(tmp_path: Path, broker_home: Path, peer: Peer) -> Path:
    """The shipped configuration with ``corp``, an OIDC provider at the peer, whose people are
    the directory's by email (the demo IdP stays the default)."""
    config = support.user_config(tmp_path, broker_home)
    with (config / "broker.toml").open("a") as toml:
        toml.write(
            f'\n[providers.corp]\ntype = "oidc"\nissuer = "{peer.issuer}"\n'
            'client_id = "broker-rs256"\n'
        )
    with (config / "directory" / "identity.toml").open("a") as identity:
        identity.write(
            '\n[identity.corp]\nuser_claim = "email"\nmatch_on = "email"\n'
            'groups_claim = "groups"\nunknown_users = "refuse"\n'
        )
    return config


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_an_ended_oidc_sign_in_names_s_which_signs_in_again(
    oidc_peer: Peer,
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    browser: list[str],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from broker.tui.app import BrokerApp, app_services
    from broker.tui.options import TuiOptions
    from broker.tui.screens.credentials import CredentialsScreen
    from broker.tui.screens.mint import MintDialog
    from broker.tui.screens.portal import PortalScreen
    from broker.tui.screens.signin import SignInScreen

    monkeypatch.setenv("BROKER_CONFIG", str(corp_config(tmp_path, broker_home, oidc_peer)))
    app = BrokerApp(app_services(), TuiOptions())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("s")  # no error yet: the provider list, the default first
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen) and not browser
        await pilot.press("down", "enter")  # demo, then corp
        await until(app, pilot, lambda: "Signed in as alice@example.com through corp"
                    in flat_text(app), "the first sign-in")  # fmt: skip
        await until(app, pilot, lambda: "payments-prod" in flat_text(app), "the roles")

        end_sign_in(broker_home, "corp")
        await pilot.press("m")
        await until(app, pilot, lambda: isinstance(app.screen, MintDialog), "the mint dialog")
        await pilot.press("enter")
        assert await shown_advice(app, pilot, "corp") == ENDED
        await pilot.press("escape")  # any other key only closes the dialog ...
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)
        assert ENDED in status_line(app)  # ... and the line stays until the next action
        assert len(browser) == 1

        await pilot.press("s")  # corp's sign-in, chosen and started
        await until(app, pilot, lambda: len(browser) == 2, "the browser")
        assert browser[1].startswith(oidc_peer.issuer)
        await until(app, pilot, lambda: isinstance(app.screen, PortalScreen)
                    and "Signed in as alice@example.com through corp" in flat_text(app),
                    "the new sign-in")  # fmt: skip
        assert signed_in_again(broker_home, "corp")
        await until(app, pilot, lambda: "payments-prod" in flat_text(app), "the roles")

        await pilot.press("m")  # the refused mint now works
        await until(app, pilot, lambda: isinstance(app.screen, MintDialog), "the mint dialog")
        await pilot.press("enter")
        await until(app, pilot, lambda: isinstance(app.screen, CredentialsScreen), "the mint")

        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")  # the advice was used: the list again, nothing started
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen) and len(browser) == 2


def test_an_ended_sign_in_in_a_real_terminal(
    oidc_peer: Peer,
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
) -> None:
    """``s`` pressed in the error dialog itself, in tmux: the dialog closes and corp's sign-in
    runs through ``$BROWSER`` (a script walking the peer's pages)."""
    config = corp_config(tmp_path, broker_home, oidc_peer)
    browser_env, opened = peer_browser(tmp_path)
    env = {"BROKER_HOME": str(broker_home), "BROKER_CONFIG": str(config), **browser_env}
    with support.broker_in_tmux(env) as tmux:
        tmux.wait_for("Not signed in", timeout=30)
        tmux.keys("s")
        tmux.wait_for("corp  [oidc]")
        tmux.keys("Down")
        tmux.keys("Enter")
        tmux.wait_for("Signed in as alice@example.com through corp", timeout=60)
        tmux.wait_for("payments-prod", timeout=30)  # the roles are in (the title comes first)
        opened.unlink()

        end_sign_in(broker_home, "corp")
        tmux.keys("m")
        tmux.wait_for("Mint ")
        time.sleep(0.5)  # the dialog focuses its duration field once mounted
        tmux.keys("Enter")
        shown = tmux.wait_for("press s to sign in to corp again", timeout=40)
        assert "broker login" not in shown
        tmux.keys("s")
        shown = tmux.wait_for("Signed in as alice@example.com through corp", timeout=60)
        assert "press s to sign in" not in shown  # the dialog closed, the line moved on
        assert opened.read_text().startswith(oidc_peer.issuer)  # corp's sign-in, again
        quit_cleanly(tmux)
    assert signed_in_again(broker_home, "corp")
