"""The app's in-memory sessions: a role's countdown and cached profile, the header's count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from broker.tui.live_sessions import LiveSessions
from broker.tui.model import PortalRole, SessionRow

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ADMIN = PortalRole("111122223333", "payments-prod", "AWSReservedSSO_AdminAccess_1a", "AdminAccess")


def _row(profile: str, role: str, minutes: float, account: str = "111122223333") -> SessionRow:
    return SessionRow(profile, account, "payments-prod", role, NOW + timedelta(minutes=minutes))


def test_a_role_matches_by_role_name_or_permission_set_and_takes_the_latest() -> None:
    live = LiveSessions.of(
        [
            _row("a", "AdminAccess", 10),  # an assignment profile: named by its permission set
            _row("b", "AWSReservedSSO_AdminAccess_1a", 50),
            _row("c", "AdminAccess", 90, account="444455556666"),  # another account
        ]
    )
    assert live.seconds_left(ADMIN, NOW) == 50 * 60
    assert live.profile_for(ADMIN, NOW) == "b"


def test_expired_sessions_count_down_but_are_not_offered() -> None:
    live = LiveSessions.of([_row("old", "AdminAccess", -3)])
    assert live.seconds_left(ADMIN, NOW) == -180
    assert live.profile_for(ADMIN, NOW) is None
    assert LiveSessions().seconds_left(ADMIN, NOW) is None


def test_live_count_and_nearest_expiry() -> None:
    live = LiveSessions.of([_row("a", "AdminAccess", 30), _row("b", "X", 5), _row("c", "Y", -1)])
    assert live.live(NOW) == (2, 300)
    assert LiveSessions().live(NOW) == (0, None)
