"""Fixtures for driving the real app with ``run_test()`` and Pilot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.tui.app import BrokerApp, app_services
from broker.tui.model import PortalRole
from broker.tui.options import TuiOptions
from providers.base import Claims, SignInResult

NOW = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)

ROLES = [
    PortalRole(
        "111122223333",
        "payments-prod",
        "AWSReservedSSO_AdminAccess_1a2b",
        "AdminAccess",
        role_arn="arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdminAccess_1a2b",
        max_session_seconds=4 * 3600,
        email="payments-prod@example.com",
        tags={"env": "prod"},
        via="group:admins",
    ),
    PortalRole(
        "111122223333",
        "payments-prod",
        "AWSReservedSSO_ReadOnly_3c4d",
        "ReadOnly",
        role_arn="arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_3c4d",
        max_session_seconds=12 * 3600,
        email="payments-prod@example.com",
        tags={"env": "prod"},
    ),
    PortalRole(
        "444455556666",
        "payments-dev",
        "Developer",
        None,
        role_arn="arn:aws:iam::444455556666:role/Developer",
        email="payments-dev@example.com",
        tags={"env": "dev"},
    ),
    PortalRole(
        "777788889999",
        "analytics",
        "DataScientist",
        None,
        role_arn="arn:aws:iam::777788889999:role/DataScientist",
        email="data@example.com",
        tags={"env": "prod", "team": "data"},
    ),
]

ALICE = SignInResult(
    claims=Claims(
        provider="demo",
        issuer="http://127.0.0.1/demo",
        subject="alice",
        email="alice@example.com",
        groups=("admins",),
    ),
    expires_at=NOW + timedelta(hours=8),
)

MakeApp = Callable[..., BrokerApp]


@pytest.fixture
def make_app(broker_home: Path) -> MakeApp:
    """A ``BrokerApp`` on the shipped config and a private data dir, clock frozen at ``NOW``.

    ``welcome=False`` marks the first-run welcome as seen so tests start on the portal.
    """

    def make(
        *, welcome: bool = False, clock: Callable[[], datetime] | None = None, **options: bool
    ) -> BrokerApp:
        if not welcome:
            import dataclasses

            from broker.tui.state import load_state, save_state

            state = load_state(broker_home)
            save_state(broker_home, dataclasses.replace(state, welcome_seen=True))
        return BrokerApp(app_services(), TuiOptions(**options), clock=clock or (lambda: NOW))

    return make


def sign_in_with_roles(app: BrokerApp, roles: list[PortalRole] = ROLES) -> None:
    """Put the app in the state a finished sign-in plus directory lookup leaves it in."""
    from broker.tui.screens.portal import PortalScreen

    app.signed_in("demo", ALICE)
    screen = app.screen
    assert isinstance(screen, PortalScreen)
    screen.set_roles(roles)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests here run on asyncio (Textual's loop) through anyio's pytest plugin."""
    return "asyncio"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
