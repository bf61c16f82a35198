"""Minting, refreshing and revoking from the TUI against the real store (gnome-keyring), the
embedded IdP and the local STS: what the TUI mints is what ``credential-process`` serves, the
reason is audited, a refresh re-mints, a revoke makes the session unusable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.store.credential_store import CredentialStore
from broker.tui.screens.credentials import CredentialsScreen
from broker.tui.screens.portal import PortalScreen
from broker.tui.screens.sessions import SessionsScreen
from tests.functional.screen_text import flat_text, screen_text

pytestmark = [pytest.mark.keyring, pytest.mark.integration, pytest.mark.anyio]

PROFILE = "analytics-dev.DataScientist"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _settle(app, pilot, done, rounds: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):  # bounded: workers do real sign-in, minting and keyring I/O
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        if done():
            return


async def test_mint_refresh_and_revoke_from_the_tui(
    secret_service: None, broker_home: Path, run_broker
) -> None:
    from broker.tui.app import BrokerApp
    from broker.tui.options import TuiOptions
    from broker.tui.screens.picker import Picker
    from broker.tui.services import Services
    from broker.tui.state import TuiState, save_state

    save_state(broker_home, TuiState(welcome_seen=True))
    app = BrokerApp(Services(), TuiOptions())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, Picker), screen_text(app)
        await pilot.press(*"carol", "enter")
        await _settle(
            app,
            pilot,
            lambda: isinstance(app.screen, PortalScreen) and "Accounts(2/2)" in screen_text(app),
        )
        await pilot.press("slash", *"DataSci", "enter")
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#reason").value = "ticket-42 quarterly model run"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await _settle(app, pilot, lambda: isinstance(app.screen, CredentialsScreen))
        screen = app.screen
        assert isinstance(screen, CredentialsScreen), screen_text(app)
        assert screen.outcome.profile == PROFILE
        minted = screen.outcome.credentials
        assert f"credential_process = broker credential-process --profile {PROFILE}" in (
            screen.block("profile", masked=True)
        )
        # secrets masked until v
        assert minted.secret_access_key not in flat_text(app)
        await pilot.press("escape")
        await pilot.pause()

        # the header counts it and the portal row counts down
        await _settle(app, pilot, lambda: "1 live" in screen_text(app))
        text = screen_text(app)
        assert "1 live" in text and "✓ 59m" in text, text

        # credential-process serves exactly what the TUI minted, from the cache
        served = run_broker("credential-process", "--profile", PROFILE)
        assert served.returncode == 0, served.stderr
        document = json.loads(served.stdout)
        assert document["AccessKeyId"] == minted.access_key_id

        # the reason is in the mint's audit event
        audit = run_broker("audit", "query", "--user", "carol")
        assert audit.returncode == 0, audit.stderr
        assert "ticket-42 quarterly model run" in audit.stdout, audit.stdout

        app.go("sessions")
        await _settle(app, pilot, lambda: PROFILE in screen_text(app))
        sessions = app.screen
        assert isinstance(sessions, SessionsScreen)
        await pilot.press("r")
        await _settle(app, pilot, lambda: "Refreshed" in flat_text(app))
        assert f"Refreshed {PROFILE}" in flat_text(app)
        refreshed = CredentialStore(broker_home).credentials(PROFILE)
        assert refreshed is not None and refreshed.access_key_id != minted.access_key_id

        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("y")
        await _settle(app, pilot, lambda: "Revoked" in flat_text(app))
        assert "Revoked" in flat_text(app)
        assert CredentialStore(broker_home).credentials(PROFILE) is None
    rules = json.loads((broker_home / "sts" / "revocations.json").read_text())
    assert [r["kind"] for r in rules] == ["session"]
