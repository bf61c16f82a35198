"""Minting, refreshing and revoking from the TUI against the real store (gnome-keyring), the
embedded IdP and the local STS: what the TUI mints is what ``credential-process`` serves, the
reason is audited, a refresh re-mints, a revoke makes the session unusable."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.store.credential_store import CredentialStore
from broker.tui.screens.credentials import CredentialsScreen
from broker.tui.screens.portal import PortalScreen
from broker.tui.screens.sessions import SessionsScreen
from tests.functional.screen_text import flat_text, screen_text
from tests.integration.conftest import BrokerServer, start_server, stop_server
from tests.state_support import embedded_state

pytestmark = [pytest.mark.keyring, pytest.mark.integration, pytest.mark.anyio]

PROFILE = "analytics-dev.DataScientist"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def served(secret_service: None, broker_home: Path) -> Iterator[BrokerServer]:
    """``broker serve`` over the TUI's BROKER_HOME: it verifies with the same signing keys and
    reads the same revocation rules."""
    process, server = start_server(broker_home)
    try:
        yield server
    finally:
        stop_server(process)


def _caller_arn(server: BrokerServer, credentials) -> str:  # type: ignore[no-untyped-def]
    """GetCallerIdentity signed with ``credentials`` (raises botocore's ClientError if refused)."""
    import boto3

    client = boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    return str(client.get_caller_identity()["Arn"])


async def _settle(app, pilot, done, rounds: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):  # bounded: workers do real sign-in, minting and keyring I/O
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        if done():
            return


async def test_mint_refresh_and_revoke_from_the_tui(
    served: BrokerServer, broker_home: Path, run_broker
) -> None:
    from broker.tui.app import BrokerApp, app_services
    from broker.tui.options import TuiOptions
    from broker.tui.screens.picker import Picker
    from broker.tui.state import TuiState, save_state

    save_state(broker_home, TuiState(welcome_seen=True))
    app = BrokerApp(app_services(), TuiOptions())
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
        program = Path(sys.executable).parent / "broker"  # this broker, by absolute path
        assert f"credential_process = {program} credential-process --profile {PROFILE}" in (
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
        process = run_broker("credential-process", "--profile", PROFILE)
        assert process.returncode == 0, process.stderr
        document = json.loads(process.stdout)
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
        assert PROFILE in sessions.lit_until  # the refreshed row is lit for 2 s
        refreshed = CredentialStore(broker_home).credentials(PROFILE)
        assert refreshed is not None and refreshed.access_key_id != minted.access_key_id
        assert _caller_arn(served, refreshed).endswith("/carol@example.com")

        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("y")
        await _settle(app, pilot, lambda: "Revoked" in flat_text(app))
        assert "Revoked" in flat_text(app)
        assert CredentialStore(broker_home).credentials(PROFILE) is None
    rules = embedded_state(broker_home).shared.revocations.rules()
    assert [r.kind for r in rules] == ["session"]
    # the attack: keep using the revoked credentials against the STS; it must refuse them
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as refused:
        _caller_arn(served, refreshed)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # only that session: the credentials minted before the refresh are another session
    assert _caller_arn(served, minted).endswith("/carol@example.com")
    audit = run_broker("audit", "query", "--event", "RevokeSessions")
    assert audit.returncode == 0 and "RevokeSessions" in audit.stdout, audit.stderr
