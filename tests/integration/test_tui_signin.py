"""Signing in from the TUI through the embedded IdP, into a real Secret Service: the portal
then lists the person's roles from the directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.store.credential_store import CredentialStore
from broker.tui.screens.portal import PortalScreen
from broker.tui.screens.signin import SignInScreen
from tests.functional.screen_text import screen_text

pytestmark = [pytest.mark.keyring, pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_sign_in_as_a_demo_user_fills_the_portal(
    secret_service: None, broker_home: Path
) -> None:
    from broker.tui.app import BrokerApp, app_services
    from broker.tui.options import TuiOptions
    from broker.tui.state import TuiState, save_state

    save_state(broker_home, TuiState(welcome_seen=True))
    app = BrokerApp(app_services(), TuiOptions())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        await pilot.press("enter")  # the default provider: the embedded demo IdP
        await pilot.pause()
        from broker.tui.screens.picker import Picker

        assert isinstance(app.screen, Picker), screen_text(app)
        await pilot.press(*"carol")
        await pilot.pause()
        await pilot.press("enter")
        for _ in range(100):  # bounded: the worker signs in through the real OIDC code path
            await app.workers.wait_for_complete()
            await pilot.pause(0.1)
            if isinstance(app.screen, PortalScreen) and "Accounts(2/2)" in screen_text(app):
                break
        text = screen_text(app)
        assert isinstance(app.screen, PortalScreen), text
        assert "carol@example.com · demo" in text
        assert "Accounts(2/2)" in text and "DataScientist" in text
    session = CredentialStore(broker_home).session("demo")
    assert session is not None and session.claims.email == "carol@example.com"
