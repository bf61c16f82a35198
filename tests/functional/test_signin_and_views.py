"""Sign in, the ``:`` command line, the palette, and every view opening on the demo."""

from __future__ import annotations

import asyncio

import pytest

from broker.tui.screens.portal import PortalScreen
from broker.tui.screens.signin import SignInScreen, TuiSignInUI
from broker.tui.views import VIEWS
from tests.functional.conftest import sign_in_with_roles
from tests.functional.screen_text import screen_text

pytestmark = pytest.mark.anyio


async def test_sign_in_lists_configured_providers(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        text = screen_text(app)
        assert "Portal › Sign in" in text
        assert "demo  [embedded] (default)" in text


async def test_device_code_shows_uri_code_qr_and_countdown(make_app, monkeypatch) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.1 5000 192.0.2.2 22")
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SignInScreen)
        ui = TuiSignInUI(app, screen)
        uri = "http://127.0.0.1:9000/device"
        complete = uri + "?user_code=WDJB-MJHT"
        await asyncio.to_thread(ui.show_device_code, uri, "WDJB-MJHT", complete, 600)
        await asyncio.to_thread(ui.status, "Waiting for approval…")
        opened = await asyncio.to_thread(ui.open_url, complete)
        await pilot.pause()
        text = screen_text(app)
        assert opened is False  # never a browser on the far side of SSH
        assert "WDJB-MJHT" in text
        assert "check the code matches" in text
        assert "Waiting for approval…" in text
        assert "code expires in 9m 5" in text or "code expires in 10m 00s" in text
        assert "▀" in text or "▄" in text  # the QR code
        await pilot.press("c")
        await pilot.pause()
        assert app.last_copied == "WDJB-MJHT"


async def test_command_line_opens_views_and_filters_portal(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        await pilot.press("colon", *"sessions", "enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "SessionsScreen"
        assert "Portal › Sessions" in screen_text(app)
        await pilot.press("colon", *"portal /dev", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)
        assert "Accounts(1/3) </dev>" in screen_text(app)
        await pilot.press("colon", *"nonsense", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)


@pytest.mark.parametrize("view", sorted(set(VIEWS) - {"signin"}))
async def test_every_view_opens_without_an_error_and_esc_goes_back(make_app, view: str) -> None:
    """Each view loads on the demo configuration: a failed load would leave an error dialog,
    and esc would close that instead of going back to the portal."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.go(view)
        await pilot.pause()
        text = screen_text(app)
        assert f"Portal › {type(app.screen).CRUMB}" in text
        await app.workers.wait_for_complete()  # else esc cancels the view's load, not goes back
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)


async def test_palette_lists_every_view_and_theme(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for view in VIEWS.values():
            assert f"Open {view.title}" in titles
        assert {"Theme: broker-dark", "Theme: broker-light", "Theme: broker-colorblind"} <= set(
            titles
        )
        assert "Help" in titles and "Sign in" in titles
