"""The status line: spinner only after 200 ms, info flashes clear after 3 s, errors stay.

The windows are measured on the status line's own clock, which the tests move: nothing here
waits for 200 ms or 3 s to pass.
"""

from __future__ import annotations

import pytest

from broker.tui.widgets.status import FlashLevel, StatusLine
from tests.functional.screen_text import screen_text

pytestmark = pytest.mark.anyio


class Seconds:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_spinner_waits_200ms_then_shows_the_verb(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one(StatusLine)
        status.clock = clock = Seconds()
        status.start("Loading accounts")
        clock.now += 0.19
        status.tick()
        assert status.busy is None  # not shown yet: a fast call never flickers
        clock.now += 0.01
        status.tick()
        await pilot.pause()
        assert "Loading accounts…" in screen_text(app)
        status.stop()
        await pilot.pause()
        assert "Loading accounts" not in screen_text(app)


async def test_info_clears_after_three_seconds_errors_stay(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one(StatusLine)
        status.clock = clock = Seconds()
        status.flash("Copied account id, 1 line")
        await pilot.pause()
        assert "ℹ Copied account id" in screen_text(app)
        clock.now += 2.9
        status.tick()
        await pilot.pause()
        assert "ℹ Copied account id" in screen_text(app)
        clock.now += 0.1
        status.tick()
        await pilot.pause()
        assert "Copied account id" not in screen_text(app)
        status.flash("Sign-in failed: clock ahead. Sync it, press r.", FlashLevel.ERROR)
        clock.now += 3600
        status.tick()
        await pilot.pause()
        assert "✗ Sign-in failed" in screen_text(app)
        status.clear_error()
        await pilot.pause()
        assert "Sign-in failed" not in screen_text(app)
