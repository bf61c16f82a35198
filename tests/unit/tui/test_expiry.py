from datetime import UTC, datetime, timedelta

import pytest

from broker.tui.expiry import (
    Level,
    describe,
    format_clock,
    format_remaining,
    glyph,
    level_for,
    repaint_interval,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (11 * 3600 + 42 * 60 + 59, "11h 42m"),
        (3600, "1h"),
        (3599, "59m 59s"),
        (14 * 60 + 5, "14m 05s"),
        (1, "0m 01s"),
        (0, "expired 0s ago"),
        (-45, "expired 45s ago"),
        (-180, "expired 3m ago"),
        (-7200, "expired 2h ago"),
    ],
)
def test_format_remaining(seconds: float, text: str) -> None:
    assert format_remaining(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "level"),
    [
        (15 * 60 + 1, Level.OK),
        (15 * 60, Level.WARN),
        (10 * 60 + 1, Level.WARN),
        (10 * 60, Level.CRITICAL),
        (1, Level.CRITICAL),
        (0, Level.EXPIRED),
        (-5, Level.EXPIRED),
    ],
)
def test_thresholds_follow_botocore_windows(seconds: float, level: Level) -> None:
    assert level_for(seconds) is level


def test_every_level_has_a_distinct_glyph_and_word() -> None:
    for ascii_only in (False, True):
        glyphs = {glyph(level, ascii_only=ascii_only) for level in Level}
        assert len(glyphs) == len(Level)
    assert len({level.word for level in Level}) == len(Level)
    assert all(glyph(level, ascii_only=True).isascii() for level in Level)


def test_describe_pairs_glyph_and_time() -> None:
    assert describe(3 * 3600 + 600) == "✓ 3h 10m"
    assert describe(12 * 60 + 40) == "⚠ 12m 40s"
    assert describe(-180, ascii_only=True) == "x expired 3m ago"


def test_format_clock_shows_local_time_and_span() -> None:
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    expires = now + timedelta(hours=1, minutes=5)
    local = expires.astimezone().strftime("%H:%M")
    assert format_clock(expires, now) == f"{local} (in 1h 05m)"
    assert format_clock(now - timedelta(minutes=3), now).endswith("(expired 3m ago)")


def test_repaint_every_second_only_under_an_hour() -> None:
    assert repaint_interval(3599) == 1.0
    assert repaint_interval(3600) == 60.0
