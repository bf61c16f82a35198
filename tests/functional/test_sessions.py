"""The sessions view: countdowns, order, revoke's confirm, --readonly."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from textual.worker import WorkerFailed

from broker.tui.model import SessionRow
from broker.tui.screens.confirm import ConfirmModal
from broker.tui.screens.sessions import SessionsScreen
from tests.functional.conftest import NOW, Clock
from tests.functional.screen_text import flat_text, screen_text

pytestmark = pytest.mark.anyio

ROWS = [
    SessionRow(
        "prod-admin",
        "111122223333",
        "payments-prod",
        "AdminAccess",
        NOW + timedelta(minutes=12, seconds=40),
    ),
    SessionRow(
        "prod-read",
        "111122223333",
        "payments-prod",
        "AdminAccess",
        NOW + timedelta(hours=3, minutes=10),
        refreshable=True,
    ),
    SessionRow("old", "444455556666", "payments-dev", "Developer", NOW - timedelta(minutes=3)),
    SessionRow("data", "777788889999", "analytics", "DataScientist", NOW + timedelta(minutes=9)),
]


async def _open(app, pilot) -> SessionsScreen:
    app.go("sessions")
    screen = app.screen
    assert isinstance(screen, SessionsScreen)
    for _ in range(200):  # bounded: mounted means its store read has started
        await pilot.pause(0.01)
        if screen.is_mounted:
            break
    await app.workers.wait_for_complete()  # so the read cannot land after the rows below
    await pilot.pause()
    screen.set_sessions(ROWS)
    await pilot.pause()
    return screen


async def test_countdowns_with_glyphs_expired_last(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(app, pilot)
        lines = screen_text(app).splitlines()
        body = [line for line in lines if "payments" in line or "analytics" in line]
        assert [line.strip("│ ").split()[0] for line in body] == [
            "data",
            "prod-admin",
            "prod-read",
            "old",
        ]
        # the header: live count and the nearest expiry with its threshold glyph (‼ ≤ 10 min)
        assert "3 live · ‼ 9m 00s" in lines[0]
        assert "‼ 9m 00s" in body[0]
        assert "⚠ 12m 40s" in body[1]
        assert "✓ 3h 10m" in body[2] and "auto" in body[2]
        assert "✗ expired 3m ago" in body[3]
        assert "Sessions(3 live/4)" in screen_text(app)


async def test_countdown_ticks_each_second(make_app) -> None:
    clock = Clock()
    app = make_app(clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot)
        clock.advance(61)
        screen.tick()
        await pilot.pause()
        text = screen_text(app)
        assert "‼ 7m 59s" in text and "⚠ 11m 39s" in text


async def test_revoke_confirms_with_exact_scope_and_cancel_first(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(app, pilot)
        await pilot.press("down", "ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.pause()
        assert (
            "Revoke AdminAccess @ payments-prod (1111 2222 3333)? 2 profiles use it."
            in flat_text(app)
        )
        await pilot.press("enter")  # focus starts on Cancel: a bare enter never confirms
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)


async def test_confirmed_revoke_with_nothing_cached_revokes_nothing(make_app, broker_home) -> None:
    # the rows are handed in; the store caches nothing for them, so there is no session to
    # revoke: no rule is written and the flash never claims a revocation (without a keyring
    # the store's error names it; with one, the profile is only forgotten)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(app, pilot)
        await pilot.press("ctrl+d", "y")
        with contextlib.suppress(WorkerFailed):  # without a keyring the worker's error is shown
            await app.workers.wait_for_complete()
        await pilot.pause()
        text = flat_text(app)
        assert "Revoked" not in text
        assert "keyring" in text or "Forgot DataScientist @ analytics (no live session" in text
    assert not (broker_home / "sts" / "revocations.stamp").exists()  # nothing was revoked


async def test_readonly_hides_revoke(make_app) -> None:
    app = make_app(readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(app, pilot)
        assert "revoke" not in screen_text(app).splitlines()[-1]
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, SessionsScreen)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(app, pilot)
        assert "revoke" in screen_text(app).splitlines()[-1]


async def test_empty_says_what_to_do(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot)
        screen.set_sessions([])
        await pilot.pause()
        assert "No live credentials — :portal, pick a role, m." in screen_text(app)


async def test_refreshing_an_mfa_profile_asks_for_its_code_in_a_dialog(
    make_app, monkeypatch
) -> None:
    """A chained ``mfa_serial`` profile's code comes from a dialog (``broker exec`` asks on the
    terminal); the code reaches the minter, and ``esc`` mints nothing."""
    from broker.client.profiles import Profile
    from broker.tui.screens.mfa_code import MfaCodeModal

    profile = Profile(
        name="prod-read",
        provider="demo",
        account="111122223333",
        role="audit",
        minter="local",
        duration=3600,
        region=None,
        source_profile="prod-admin",
        role_arn="arn:aws:iam::111122223333:role/audit",
        mfa_serial="arn:aws:iam::111122223333:mfa/alice",
    )
    codes: list[str] = []

    def refresh(profiles, read_code=None):
        codes.append(read_code(profile))
        return list(profiles)

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        monkeypatch.setattr(app.services, "refresh", refresh)
        await _open(app, pilot)
        await pilot.press("down", "down", "r")  # prod-read
        for _ in range(100):
            await pilot.pause(0.02)
            if isinstance(app.screen, MfaCodeModal):
                break
        assert isinstance(app.screen, MfaCodeModal)
        assert "MFA code for arn:aws:iam::111122223333:mfa/alice (profile prod-read)" in (
            flat_text(app)
        )
        await pilot.press(*"12345", "enter")  # five digits: not sent
        await pilot.pause()
        assert isinstance(app.screen, MfaCodeModal) and codes == []
        await pilot.press("6", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert codes == ["123456"]
        assert "Refreshed prod-read" in flat_text(app)

        app.screen.set_sessions(ROWS)  # the refresh reloaded the (empty) real store
        await pilot.pause()
        await pilot.press("r")
        for _ in range(100):
            await pilot.pause(0.02)
            if isinstance(app.screen, MfaCodeModal):
                break
        assert isinstance(app.screen, MfaCodeModal), flat_text(app)
        await pilot.press("escape")
        with contextlib.suppress(WorkerFailed):
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert codes == ["123456"]  # nothing sent, nothing minted
        assert "no MFA code given; nothing was minted" in flat_text(app)
