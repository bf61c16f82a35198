"""The status line: spinner only after 200 ms, info flashes clear after 3 s, errors stay."""

from __future__ import annotations

import pytest

from broker.tui.widgets.status import FlashLevel, StatusLine
from tests.functional.screen_text import screen_text

pytestmark = pytest.mark.anyio


async def test_spinner_waits_200ms_then_shows_the_verb(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one(StatusLine)
        status.start("Loading accounts")
        assert status.busy is None  # not shown at once: a fast call never flickers
        await pilot.pause(0.4)
        assert "Loading accounts…" in screen_text(app)
        status.stop()
        await pilot.pause()
        assert "Loading accounts" not in screen_text(app)


async def test_info_clears_after_three_seconds_errors_stay(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one(StatusLine)
        status.flash("Copied account id, 1 line")
        await pilot.pause()
        assert "ℹ Copied account id" in screen_text(app)
        await pilot.pause(3.2)
        assert "Copied account id" not in screen_text(app)
        status.flash("Sign-in failed: clock ahead. Sync it, press r.", FlashLevel.ERROR)
        await pilot.pause(3.2)
        assert "✗ Sign-in failed" in screen_text(app)
        status.clear_error()
        await pilot.pause()
        assert "Sign-in failed" not in screen_text(app)
