"""``esc`` cancels a screen's running workers and their results never land; Sessions shows the
refresher's state from its real status record, with the next round counting down."""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from textual import work

from broker.client.refresher_status import RefresherStatus, write_status
from broker.errors import StsError
from broker.tui.screens.base import BrokerScreen
from broker.tui.screens.sessions import SessionsScreen
from tests.functional.conftest import NOW, Clock
from tests.functional.screen_text import flat_text

pytestmark = pytest.mark.anyio


class SlowScreen(BrokerScreen):
    """A screen whose worker blocks until the test releases it, then hands a result over."""

    CRUMB = "Slow"

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.applied: list[str] = []

    @work(exclusive=True, exit_on_error=False, thread=True, description="Waiting on the IdP")
    def slow(self, fail: bool = False) -> None:
        assert self.release.wait(10), "the test never released the worker"
        if fail:
            raise StsError("the IdP refused", code="AccessDenied")
        self.deliver(self.applied.append, "result")


async def test_esc_cancels_running_work_and_its_result_is_never_applied(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = SlowScreen()
        await app.push_screen(screen)
        worker = screen.slow()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen  # esc cancelled the work, it did not go back
        assert worker.is_cancelled
        assert "Cancelled: Waiting on the IdP" in flat_text(app)
        screen.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert screen.applied == []
        await pilot.press("escape")  # nothing runs now: back a crumb
        await pilot.pause()
        assert app.screen is not screen


async def test_a_cancelled_worker_that_then_fails_shows_no_error(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = SlowScreen()
        await app.push_screen(screen)
        screen.slow(fail=True)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        screen.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert app.screen is screen  # no error dialog on top
        assert "the IdP refused" not in flat_text(app)


async def test_a_worker_left_alone_delivers(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = SlowScreen()
        await app.push_screen(screen)
        screen.slow()
        screen.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert screen.applied == ["result"]


async def _sessions(app, pilot) -> SessionsScreen:  # type: ignore[no-untyped-def]
    app.go("sessions")
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if "Refresher" in flat_text(app) and "reading its status" not in flat_text(app):
            break
    screen = app.screen
    assert isinstance(screen, SessionsScreen)
    return screen


async def test_sessions_says_the_refresher_never_started(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _sessions(app, pilot)
        assert "Refresher: never started here" in flat_text(app)


async def test_sessions_shows_a_running_refresher_counting_down(
    make_app, broker_home: Path
) -> None:
    status = RefresherStatus(
        pid=os.getpid(),  # alive: this process
        started=NOW - timedelta(hours=2),
        last_round=NOW - timedelta(seconds=30),
        next_round=NOW + timedelta(minutes=4, seconds=10),
        refreshed=("prod-admin",),
    )
    write_status(broker_home, status)
    clock = Clock()
    app = make_app(clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _sessions(app, pilot)
        text = flat_text(app)
        assert f"✓ Refresher running (pid {os.getpid()})" in text, text
        assert "next round in 4m 10s · refreshed prod-admin" in text
        clock.advance(5)
        screen.tick()
        await pilot.pause()
        assert "next round in 4m 05s" in flat_text(app)


async def test_sessions_shows_a_dead_refresher_stopped_with_its_last_error(
    make_app, broker_home: Path
) -> None:
    status = RefresherStatus(
        pid=2**22 + 17,  # above Linux's pid_max default: no such process
        started=NOW - timedelta(hours=2),
        last_round=NOW - timedelta(seconds=30),
        next_round=NOW + timedelta(minutes=1),
        last_error="dev: not signed in to corp: run `broker login corp`",
    )
    write_status(broker_home, status)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await _sessions(app, pilot)
        text = flat_text(app)
        assert f"✗ Refresher stopped (pid {2**22 + 17} is gone)" in text, text
        assert "last error: dev: not signed in to corp" in text


async def test_the_refreshers_sign_in_error_names_s_which_opens_that_sign_in(
    make_app, broker_home: Path
) -> None:
    """The watcher recorded that the demo sign-in is gone: the line says what to press here,
    not what to run, and ``s`` opens the demo IdP's sign-in (its demo users to pick from)."""
    from broker.login_advice import plain_login_advice
    from broker.tui.screens.picker import Picker
    from broker.tui.screens.signin import SignInScreen

    advice = plain_login_advice("demo")
    write_status(
        broker_home,
        RefresherStatus(
            pid=os.getpid(),
            started=NOW - timedelta(minutes=5),
            last_round=NOW - timedelta(seconds=20),
            next_round=NOW + timedelta(minutes=4),
            last_error=f"dev: not signed in to demo: {advice}",
            sign_in=advice,
        ),
    )
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await _sessions(app, pilot)
        text = flat_text(app)
        assert "last error: dev: not signed in to demo: press s to sign in to demo again" in text
        assert "broker login" not in text
        await pilot.press("s")
        for _ in range(50):  # bounded: the sign-in screen reads broker.toml, then starts
            await pilot.pause(0.05)
            if isinstance(app.screen, Picker):
                break
        assert isinstance(app.screen, Picker), flat_text(app)  # demo's sign-in, started
        assert "Sign in to demo as" in flat_text(app)
        assert any(isinstance(s, SignInScreen) for s in app.screen_stack)
