"""The terminal app with IAM Identity Center: sign in from its sign-in screen with the device
code (approved by the test at the fake's approval endpoint), the portal lists the roles
Identity Center says the person holds, a role is minted from the mint dialog, and the real AWS
CLI uses it through ``credential_process`` against moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.functional.screen_text import screen_text
from tests.integration.moto_peer import MotoPeer
from tests.integration.sso_peer import RunningFake
from tests.integration.test_identity_center_cli import (  # noqa: F401 (fixtures)
    assert_aws_cli_uses,
    env,
    peer,
)

pytestmark = [pytest.mark.keyring, pytest.mark.integration, pytest.mark.anyio]

ACCOUNT = "111122223333"  # the account moto lets the fake mint in


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def signed_in(
    env: dict[str, str],  # noqa: F811
    peer: RunningFake,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("BROKER_CONFIG", env["BROKER_CONFIG"])
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    yield env


async def _settle(app, pilot, done, rounds: int = 150) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):  # bounded: workers call the fake and the keyring
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        if done():
            return


async def test_portal_mint_and_aws_cli(
    signed_in: dict[str, str],
    peer: RunningFake,  # noqa: F811
    moto_peer: MotoPeer,
    broker_home: Path,
) -> None:
    from broker.tui.app import BrokerApp, app_services
    from broker.tui.options import TuiOptions
    from broker.tui.screens.config_errors import ConfigErrorsScreen
    from broker.tui.screens.credentials import CredentialsScreen
    from broker.tui.screens.portal import PortalScreen
    from broker.tui.screens.signin import SignInScreen
    from broker.tui.state import TuiState, save_state

    save_state(broker_home, TuiState(welcome_seen=True))
    app = BrokerApp(app_services(), TuiOptions())
    async with app.run_test(size=(110, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfigErrorsScreen)  # Identity Center is the directory
        app.go("signin")
        await pilot.pause()
        signin = app.screen
        assert isinstance(signin, SignInScreen), screen_text(app)
        await pilot.press("d")
        for _ in range(100):  # not waiting for workers: the sign-in waits for this approval
            await pilot.pause(0.1)
            if signin.user_code is not None:
                break
        assert signin.user_code is not None, screen_text(app)
        assert signin.user_code in screen_text(app)
        httpx.post(
            f"{peer.url}/_fake/approve", json={"user_code": signin.user_code, "user": "casey"}
        ).raise_for_status()
        await _settle(
            app,
            pilot,
            lambda: isinstance(app.screen, PortalScreen) and "Accounts(3/3)" in screen_text(app),
        )
        assert "Accounts(3/3)" in screen_text(app), screen_text(app)
        assert all(name in screen_text(app) for name in ("payments-prod", "sandbox"))
        await pilot.press("slash", *ACCOUNT, "enter")
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("enter")
        await _settle(app, pilot, lambda: isinstance(app.screen, CredentialsScreen))
        screen = app.screen
        assert isinstance(screen, CredentialsScreen), screen_text(app)
        profile = screen.outcome.profile
        assert profile in ("payments-dev.Developer", "payments-dev.ReadOnly"), profile
        minted = screen.outcome.credentials
        assert minted.secret_access_key not in screen_text(app)
    assert peer.fake.count("GetRoleCredentials") == 1

    assert_aws_cli_uses(signed_in, moto_peer, profile)
    assert peer.fake.count("GetRoleCredentials") == 1  # served from what the app minted
