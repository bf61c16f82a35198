"""Shared steps of the terminal app's "your sign-in has ended" tests: end a stored sign-in as
time would (its expiry passes and there is no refresh token to renew it), wait for the app,
and read the advice it shows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broker.store.credential_store import CredentialStore
from tests.functional.screen_text import flat_text


def end_sign_in(home: Path, provider: str) -> None:
    """The stored sign-in to ``provider`` ends: past its expiry, nothing to renew it with."""
    store = CredentialStore(home)
    session = store.session(provider)
    assert session is not None, f"no stored sign-in to {provider}"
    ended = datetime.now(UTC) - timedelta(minutes=1)
    store.save_session(provider, dataclasses.replace(session, expires_at=ended, refresh_token=None))


def signed_in_again(home: Path, provider: str) -> bool:
    session = CredentialStore(home).session(provider)
    return session is not None and session.expires_at > datetime.now(UTC)


async def until(app, pilot, check: Callable[[], bool], what: str, rounds: int = 600) -> None:  # type: ignore[no-untyped-def]
    """Wait for ``check`` (bounded: workers sign in at real peers and use the real keyring)."""
    for _ in range(rounds):
        await pilot.pause(0.1)
        if check():
            return
    raise AssertionError(f"{what} did not happen; screen: {flat_text(app)}")


async def shown_advice(app, pilot, provider: str) -> str:  # type: ignore[no-untyped-def]
    """The error dialog's one line once the refusal arrived; it names the app's key, never a
    command."""
    from broker.tui.screens.error import ErrorModal

    await until(app, pilot, lambda: isinstance(app.screen, ErrorModal), "the error dialog")
    modal = app.screen
    assert isinstance(modal, ErrorModal)
    assert modal.sign_in == provider
    assert "broker login" not in modal.summary, modal.summary
    assert "broker login" not in flat_text(app)
    return modal.summary


def status_line(app) -> str:  # type: ignore[no-untyped-def]
    from broker.tui.screens.base import BrokerScreen

    screen = app.screen
    assert isinstance(screen, BrokerScreen), type(screen)
    return str(screen.status.render())
