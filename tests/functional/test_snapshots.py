"""Snapshots of the main screens (pytest-textual-snapshot). Clocks are frozen (the app's clock
is injected), the welcome is marked seen, and input cursors do not blink, so each SVG is stable.

Update after a deliberate visual change with ``pytest tests/functional/test_snapshots.py
--snapshot-update`` and review the SVG diff.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from broker.tui.screens.confirm import ConfirmModal
from broker.tui.screens.mint import MintDialog
from tests.functional.conftest import ROLES, sign_in_with_roles


async def _still(pilot: Pilot[object]) -> None:
    """No blinking cursors anywhere, then let layout settle."""
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    for area in pilot.app.screen.query(TextArea):
        area.cursor_blink = False
    await pilot.pause()


def _portal(favourite: bool = False):
    async def run_before(pilot: Pilot[object]) -> None:
        sign_in_with_roles(pilot.app)  # type: ignore[arg-type]
        if favourite:
            await pilot.press("f")
        await _still(pilot)

    return run_before


def test_portal_80x24(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_portal(favourite=True))


def test_portal_filtered(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await _portal()(pilot)
        await pilot.press("slash", *"pay")
        await _still(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_portal_ascii_no_color(snap_compare, make_app, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = make_app(ascii_only=True, no_color=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_portal(favourite=True))


def test_portal_colourblind_theme_wide(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        pilot.app.theme = "broker-colorblind"
        await _portal(favourite=True)(pilot)

    assert snap_compare(make_app(), terminal_size=(140, 30), run_before=run_before)


def test_mint_dialog(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await _portal()(pilot)
        pilot.app.push_screen(MintDialog(ROLES[0]))
        await _still(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_revoke_confirm(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        pilot.app.push_screen(
            ConfirmModal("Revoke AdminAccess @ payments-prod (1111 2222 3333)? 2 profiles use it.")
        )
        await _still(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_help(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await pilot.press("question_mark")
        await _still(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_too_small(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=(60, 20))


def test_first_run_welcome(snap_compare, make_app) -> None:
    assert snap_compare(make_app(welcome=True), terminal_size=(80, 24), run_before=_still)


def test_reports_credentials_80x24(snap_compare, make_app) -> None:
    """The credential report at 80 columns; no user has signed in, so no times vary."""

    async def run_before(pilot: Pilot[object]) -> None:
        await pilot.press("colon", *"reports", "enter")
        await pilot.app.workers.wait_for_complete()
        await _still(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)
