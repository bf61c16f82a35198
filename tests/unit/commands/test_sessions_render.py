"""``broker sessions``: its expiry column and ``expired`` flag, read at a chosen moment.

The command reads the wall clock once, at its front end, and renders at that moment; here the
moment is chosen, so each countdown is exact and nothing waits for time to pass.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from broker.client.sessions import CachedSession
from broker.commands.sessions import render_sessions

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def _row(profile: str, left: timedelta) -> CachedSession:
    return CachedSession(
        profile=profile,
        provider="corp",
        account_id="111122223333",
        account_name="111122223333",
        role="Developer",
        expiration=NOW + left,
        minter="local",
        refreshable=True,
    )


def test_the_table_counts_down_from_the_moment_given() -> None:
    rows = [
        _row("long", timedelta(hours=1, minutes=5, seconds=59)),
        _row("short", timedelta(minutes=9, seconds=30)),
        _row("gone", timedelta(seconds=0)),
    ]
    lines = render_sessions(rows, False, NOW).splitlines()
    assert lines[0].split() == ["PROFILE", "ACCOUNT", "ROLE", "PROVIDER", "EXPIRES", "MINTER"]
    assert "2030-01-01T13:05:59Z (in 1h05m)" in lines[1]
    assert "2030-01-01T12:09:30Z (in 9m)" in lines[2]
    assert "2030-01-01T12:00:00Z (expired)" in lines[3]
    later = render_sessions(rows, False, NOW + timedelta(minutes=10)).splitlines()
    assert "(in 55m)" in later[1] and "(expired)" in later[2]


def test_json_marks_expired_at_the_moment_given() -> None:
    rows = [_row("dev", timedelta(seconds=1))]
    assert json.loads(render_sessions(rows, True, NOW))[0]["expired"] is False
    assert json.loads(render_sessions(rows, True, NOW + timedelta(seconds=1)))[0]["expired"] is True
