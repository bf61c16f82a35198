"""What every screen shares: welcome, size guard, help, confirm, themes, ASCII and no-colour."""

from __future__ import annotations

import json
import os

import pytest
from textual.widgets import Button

from broker.tui.screens.confirm import ConfirmModal
from broker.tui.screens.help import HelpScreen
from broker.tui.screens.portal import PortalScreen
from broker.tui.screens.too_small import TooSmallScreen
from broker.tui.screens.welcome import WelcomeScreen
from tests.functional.conftest import sign_in_with_roles
from tests.functional.screen_text import flat_text, screen_text

pytestmark = pytest.mark.anyio


async def test_first_run_welcome_names_the_demo_idp_once(make_app, broker_home) -> None:
    app = make_app(welcome=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        text = screen_text(app)
        assert "Welcome to Access Broker" in text
        assert "built-in demo identity provider signs in demo users" in flat_text(app)
        assert "Demo users:" in text
        flat = flat_text(app)
        # The IdP's sign-in MFA (its amr claim), named so, not the directory's TOTP device.
        assert (
            "alice 10 accounts: AdministratorAccess, PowerUserAccess, ReadOnlyAccess · IdP MFA"
            in flat
        )
        assert "dave 1 account: Billing · no IdP MFA" in flat
        legend = str(app.screen.query_one("#welcome-text").render())  # may be below the fold
        assert "IdP MFA: the IdP's amr claim says a second factor was used" in legend
        assert "a directory TOTP device is separate" in legend
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)
    assert json.loads((broker_home / "tui-state.json").read_text())["welcome_seen"] is True
    again = make_app(welcome=True)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(again.screen, PortalScreen)


async def test_welcome_can_stay_on(make_app, broker_home) -> None:
    app = make_app(welcome=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.click("#welcome-off")
        await pilot.click("#close")
        await pilot.pause()
    assert json.loads((broker_home / "tui-state.json").read_text())["welcome_seen"] is False


async def test_too_small_shows_current_and_needed_size(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(70, 20)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        text = screen_text(app)
        assert "Terminal too small: 70×20" in text and "needs 80×24" in text
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)
        await pilot.resize_terminal(79, 30)
        await pilot.pause()
        assert "Terminal too small: 79×30" in screen_text(app)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0


async def test_help_lists_keys_and_colour_legend_and_filters(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "Everywhere:" in screen_text(app)
        await pilot.press(*"favourite")
        await pilot.pause()
        text = screen_text(app)
        assert "toggle favourite ★" in text and "jump to favourite N" in text
        await pilot.press(*["backspace"] * len("favourite"), *"window")
        await pilot.pause()
        text = flat_text(app)
        assert "⚠" in text and "advisory window" in text
        assert "‼" in text and "mandatory window" in text
        assert "toggle favourite" not in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, PortalScreen)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [(["enter"], False), (["y"], True), (["tab", "enter"], True), (["escape"], False)],
)
async def test_confirm_starts_on_cancel_and_enter_never_confirms(make_app, keys, expected) -> None:
    app = make_app()
    answers: list[bool | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(
            ConfirmModal("Revoke AdminAccess @ payments-prod (1111 2222 3333)?"), answers.append
        )
        await pilot.pause()
        assert app.screen.focused is app.screen.query_one("#no", Button)
        await pilot.press(*keys)
        await pilot.pause()
    assert answers == [expected]


async def test_theme_choice_persists(make_app, broker_home) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "broker-dark"
        app.theme = "broker-colorblind"
        await pilot.pause()
    assert json.loads((broker_home / "tui-state.json").read_text())["theme"] == "broker-colorblind"
    again = make_app()
    async with again.run_test(size=(80, 24)):
        assert again.theme == "broker-colorblind"


async def test_colourblind_theme_never_rests_on_red_versus_green(make_app) -> None:
    from textual.color import Color

    from broker.tui.themes import THEMES

    theme = next(t for t in THEMES if t.name == "broker-colorblind")
    ok = Color.parse(theme.success or "")
    bad = Color.parse(theme.error or "")
    # "ok" is blue, not green: blue dominates; the error colour is orange (red > green > blue)
    assert ok.b > ok.g and ok.b > ok.r
    assert bad.r > bad.g > bad.b


async def test_ascii_mode_uses_no_unicode_glyphs_in_the_frame(make_app) -> None:
    app = make_app(ascii_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        sign_in_with_roles(app)
        await pilot.press("f")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        assert "broker  Portal" in lines[0] and lines[0].isascii()
        body = [line.strip("│╭╮╰╯─ ") for line in lines[2:-2]]
        assert any("*1 analytics" in line for line in body)
        assert [line for line in body if not line.isascii()] == []


async def test_no_color_turns_colour_off(make_app, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(no_color=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.no_color is True
    assert "NO_COLOR" not in os.environ  # not leaked into the rest of the process
