"""The help screen is read from the bindings (every screen's keys, Reports' too), and ``ctrl+o``
jump mode puts a letter on each pane and focuses the one typed."""

from __future__ import annotations

import pytest
from textual.binding import Binding

from broker.tui.screens.help import HelpScreen, help_lines
from broker.tui.screens.jump import JUMP_KEYS, JumpOverlay
from broker.tui.screens.reports import ReportsScreen
from broker.tui.screens.sessions import SessionsScreen
from tests.functional.screen_text import flat_text, screen_text

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("screen", [ReportsScreen, SessionsScreen])
def test_every_binding_of_a_screen_is_in_help(screen: type) -> None:
    text = "\n".join(help_lines(""))
    for binding in screen.BINDINGS:
        assert isinstance(binding, Binding)
        assert (binding.tooltip or binding.description) in text, binding


def test_a_new_binding_shows_up_without_touching_help(monkeypatch) -> None:
    extra = Binding("ctrl+e", "export", "export", tooltip="export the report as CSV")
    monkeypatch.setattr(ReportsScreen, "BINDINGS", [*ReportsScreen.BINDINGS, extra])
    lines = help_lines("csv")
    assert lines == ["Reports:", "  ctrl+e       export the report as CSV"]


async def test_help_filters_by_screen_name(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press(*"reports")
        await pilot.pause()
        text = flat_text(app)
        assert "Reports:" in text
        assert "1 credentials" in text and "3 analyzer" in text and "y copy policy" in text
        assert "Portal:" not in text


async def test_ctrl_o_labels_the_panes_and_focuses_the_one_typed(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.go("sim")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        panes = [w for w in app.screen.focus_chain if w.region.area > 0]
        assert len(panes) >= 3, screen_text(app)
        await pilot.press("ctrl+o")
        await pilot.pause()
        overlay = app.screen
        assert isinstance(overlay, JumpOverlay)
        assert list(overlay.targets) == list(JUMP_KEYS[: len(panes)])
        labels = [str(label.render()).strip() for label in overlay.query(".jump-label")]
        assert labels == list(JUMP_KEYS[: len(panes)])
        await pilot.press(JUMP_KEYS[2])
        await pilot.pause()
        assert not isinstance(app.screen, JumpOverlay)
        assert app.focused is panes[2]


async def test_jump_mode_with_nothing_to_jump_to_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:  # signed out: the portal has no list
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not isinstance(app.screen, JumpOverlay)
        assert "Nothing to jump to here." in flat_text(app)


async def test_any_other_key_leaves_jump_mode_without_moving(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.go("sim")
        await pilot.pause()
        before = app.focused
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, JumpOverlay)
        await pilot.press("9")
        await pilot.pause()
        assert not isinstance(app.screen, JumpOverlay)
        assert app.focused is before
