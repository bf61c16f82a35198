"""The mint dialog and the credentials panel."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import timedelta

import pytest
from textual.widgets import Button, Input
from textual.worker import WorkerFailed

from broker.minters.base import Credentials
from broker.tui.model import MintChoice, MintOutcome
from broker.tui.screens.credentials import CredentialsScreen
from broker.tui.screens.mint import MintDialog
from tests.functional.conftest import NOW, ROLES, sign_in_with_roles
from tests.functional.screen_text import flat_text, screen_text

pytestmark = pytest.mark.anyio

CREDS = Credentials(
    access_key_id="ABKEXAMPLEKEY0000001",
    secret_access_key="wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY00",
    session_token="session-token-EXAMPLE",
    expiration=NOW + timedelta(hours=1, minutes=5),
)


async def _open_dialog(app, pilot, role_index: int = 0) -> MintDialog:
    sign_in_with_roles(app)
    screen = app.screen
    screen.set_filter(ROLES[role_index].label)
    await pilot.press("m")
    await pilot.pause()
    assert isinstance(app.screen, MintDialog)
    return app.screen


async def test_dialog_states_ceiling_and_disables_presets_above_it(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await _open_dialog(app, pilot)
        text = screen_text(app)
        assert "Mint AdminAccess @ payments-prod (1111 2222 3333)" in text
        assert "max 4h (role MaxSessionDuration)" in text
        enabled = {
            b.label.plain: not b.disabled for b in dialog.query("#presets Button").results(Button)
        }
        assert enabled == {
            "15m": True,
            "1h": True,
            "4h": True,
            "8h": False,
            "12h": False,
            "36h": False,
        }
        assert "8h 12h 36h: over max 4h (role MaxSessionDuration)" in text
        assert dialog.query_one("#duration", Input).value == "1h"  # the STS default


async def test_over_the_ceiling_is_refused_with_the_reason(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await _open_dialog(app, pilot)
        dialog.query_one("#duration", Input).value = "5h"
        await pilot.click("#mint")
        await pilot.pause()
        assert isinstance(app.screen, MintDialog)
        assert "5h is over the max 4h (role MaxSessionDuration); ask for 4h or less" in screen_text(
            app
        )
        dialog.query_one("#duration", Input).value = "soon"
        dialog.query_one("#duration", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "soon is not a duration; write it like 2h30m" in screen_text(app)


async def test_preset_then_reason_returns_the_choice(make_app) -> None:
    app = make_app()
    results: list[MintChoice | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        app.push_screen(MintDialog(ROLES[1]), results.append)
        await pilot.pause()
        await pilot.click("#preset-14400")
        app.screen.query_one("#reason", Input).value = "incident 42"
        await pilot.click("#mint")
        await pilot.pause()
    assert results == [MintChoice(seconds=14400, reason="incident 42", session_policy=None)]


async def test_free_entry_and_escape(make_app) -> None:
    app = make_app()
    results: list[MintChoice | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        app.push_screen(MintDialog(ROLES[1]), results.append)
        await pilot.pause()
        app.screen.query_one("#duration", Input).value = "2h30m"
        await pilot.press("enter")
        app.push_screen(MintDialog(ROLES[1]), results.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert results == [MintChoice(seconds=9000), None]


async def test_identity_center_role_asks_for_no_duration_or_policy(make_app) -> None:
    # GetRoleCredentials takes neither: a field offered and then ignored would be a lie.
    role = dataclasses.replace(ROLES[1], via="IAM Identity Center", fixed_session=True)
    app = make_app()
    results: list[MintChoice | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        app.push_screen(MintDialog(role), results.append)
        await pilot.pause()
        dialog = app.screen
        assert not dialog.query("#duration") and not dialog.query("#policy")
        assert "permission set sets the session length" in screen_text(app)
        dialog.query_one("#reason", Input).value = "deploy"
        await pilot.press("enter")
        await pilot.pause()
    assert results == [MintChoice(seconds=None, reason="deploy")]


async def test_a_refused_mint_is_a_dialog_with_the_fix_not_a_traceback(make_app) -> None:
    # the app believes alice is signed in, but the store holds no session for the provider:
    # the chain refuses as `credential-process` would, its fix worded for the app (its key)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_dialog(app, pilot)
        await pilot.press("enter")
        with contextlib.suppress(WorkerFailed):  # the worker's error is the point
            await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "Error" in text
        assert "not signed in to demo: press s to sign in to demo again" in flat_text(app)
        assert "broker login" not in text
        assert "Traceback" not in text
        assert not isinstance(app.screen, CredentialsScreen)


async def _credentials(app, pilot) -> CredentialsScreen:
    sign_in_with_roles(app)
    screen = CredentialsScreen(ROLES[0], MintOutcome("payments-prod.AdminAccess", CREDS))
    app.push_screen(screen)
    await pilot.pause()
    return screen


async def test_credentials_panel_masks_until_v(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _credentials(app, pilot)
        text = screen_text(app)
        assert "Portal › Credentials" in text
        assert "✓ 1h 05m" in text
        # The running broker by absolute path, as `configure aws` writes it (not a bare name).
        import sys
        from pathlib import Path

        program = Path(sys.executable).parent / "broker"
        assert (
            f"credential_process = {program} credential-process --profile "
            "payments-prod.AdminAccess" in flat_text(app)
        )
        await pilot.press("right")  # bash/zsh tab
        await pilot.pause()
        text = screen_text(app)
        assert "export AWS_ACCESS_KEY_ID='ABKEXAMPLEKEY0000001'" in text
        assert CREDS.secret_access_key not in text and "••••" in text
        await pilot.press("v")
        await pilot.pause()
        assert f"export AWS_SECRET_ACCESS_KEY='{CREDS.secret_access_key}'" in screen_text(app)


async def test_copy_takes_the_unmasked_block_and_never_shows_it(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _credentials(app, pilot)
        await pilot.press("right", "y")
        await pilot.pause()
        assert app.last_copied is not None
        assert f"export AWS_SESSION_TOKEN='{CREDS.session_token}'" in app.last_copied
        text = screen_text(app)
        assert "Copied env exports (bash/zsh), 4 lines" in text
        assert CREDS.session_token not in text


async def test_minting_an_mfa_profile_asks_for_its_code_in_a_dialog(make_app, monkeypatch) -> None:
    """The portal's mint hands the minter the same code dialog as Sessions' refresh, so a
    chained ``mfa_serial`` profile is never refused with the command line's "run `broker exec`
    in a terminal"; ``esc`` mints nothing."""
    from broker.client.profiles import Profile
    from broker.tui.screens.mfa_code import MfaCodeModal

    profile = Profile(
        name="payments-prod.AdminAccess",
        provider="demo",
        account="111122223333",
        role="AWSReservedSSO_AdminAccess_1a2b",
        minter="local",
        duration=3600,
        region=None,
        source_profile="prod-base",
        role_arn=ROLES[0].role_arn,
        mfa_serial="arn:aws:iam::111122223333:mfa/alice",
    )
    codes: list[str] = []

    async def code_dialog() -> None:
        for _ in range(100):  # bounded: the mint worker opens it from its thread
            await pilot.pause(0.02)
            if isinstance(app.screen, MfaCodeModal):
                return
        raise AssertionError(flat_text(app))

    def mint(identity, role, choice, read_code=None):  # type: ignore[no-untyped-def]
        codes.append(read_code(profile))
        return MintOutcome(profile.name, CREDS)

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        monkeypatch.setattr(app.services, "mint", mint)
        await _open_dialog(app, pilot)
        await pilot.press("enter")
        await code_dialog()
        assert f"(profile {profile.name})" in flat_text(app)
        await pilot.press(*"123456", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert codes == ["123456"]
        assert isinstance(app.screen, CredentialsScreen)

        await pilot.press("escape")
        await pilot.pause()
        await _open_dialog(app, pilot)
        await pilot.press("enter")
        await code_dialog()
        await pilot.press("escape")
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert codes == ["123456"]  # nothing sent, nothing minted
        assert "no MFA code given; nothing was minted" in flat_text(app)
        assert "broker exec" not in flat_text(app)
