"""Snapshots of the main screens (pytest-textual-snapshot). Clocks are frozen (the app's clock
is injected), the welcome is marked seen, and input cursors do not blink, so each SVG is stable.

Update after a deliberate visual change with ``pytest tests/functional/test_snapshots.py
--snapshot-update`` and review the SVG diff.
"""

from __future__ import annotations

import pytest
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


def test_widget_help_on_the_role_list(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        await _portal()(pilot)
        await pilot.press("f1")
        await _still(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_too_small(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=(60, 20))


def test_first_run_welcome(snap_compare, make_app) -> None:
    assert snap_compare(make_app(welcome=True), terminal_size=(80, 24), run_before=_still)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
def test_reports_credentials(snap_compare, make_app, size: tuple[int, int]) -> None:
    """The credential report with its account column and detail pane; no user has signed in,
    so no times vary."""

    async def run_before(pilot: Pilot[object]) -> None:
        from textual.widgets import DataTable

        await pilot.press("colon", *"reports", "enter")
        for _ in range(100):  # bounded: under load the report's worker may not have started yet
            await pilot.app.workers.wait_for_complete()
            await pilot.pause(0.05)
            tables = pilot.app.screen.query("#credentials")
            if tables and isinstance(tables.first(), DataTable) and tables.first().row_count:
                break
        await _still(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=run_before)


def test_sessions_with_refresher(snap_compare, make_app, broker_home) -> None:
    from datetime import timedelta

    from broker.client.refresher_status import RefresherStatus, write_status
    from broker.tui.model import SessionRow
    from broker.tui.screens.sessions import SessionsScreen
    from tests.functional.conftest import NOW

    write_status(
        broker_home,
        RefresherStatus(
            pid=1,  # always alive, and the same on every machine
            started=NOW - timedelta(hours=2),
            last_round=NOW - timedelta(seconds=30),
            next_round=NOW + timedelta(minutes=4, seconds=10),
            refreshed=("payments-prod.AdminAccess",),
        ),
    )

    async def run_before(pilot: Pilot[object]) -> None:
        pilot.app.go("sessions")  # type: ignore[attr-defined]
        screen = pilot.app.screen
        assert isinstance(screen, SessionsScreen)
        for _ in range(100):  # bounded: both reads done, so neither lands after set_sessions
            await pilot.pause(0.05)
            await pilot.app.workers.wait_for_complete()
            if screen.is_mounted and screen.refresher is not None:
                break
        screen.set_sessions(
            [
                SessionRow(
                    "payments-prod.AdminAccess",
                    "111122223333",
                    "payments-prod",
                    "AdminAccess",
                    NOW + timedelta(minutes=12, seconds=40),
                    refreshable=True,
                )
            ]
        )
        await _still(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_console_link(snap_compare, make_app, monkeypatch) -> None:
    from broker.tui.screens.console_link import ConsoleLinkModal

    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    url = (
        "https://signin.aws.amazon.com/federation?Action=login&Issuer=https%3A%2F%2Fbroker"
        ".example.com&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2F&SigninToken=EXAMPLE"
    )

    async def run_before(pilot: Pilot[object]) -> None:
        pilot.app.push_screen(ConsoleLinkModal("payments-prod.AdminAccess", url))
        await _still(pilot)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)


def test_jump_mode(snap_compare, make_app) -> None:
    async def run_before(pilot: Pilot[object]) -> None:
        pilot.app.go("sim")  # type: ignore[attr-defined]
        await pilot.pause()
        await _still(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run_before)
