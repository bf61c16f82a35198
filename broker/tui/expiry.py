"""How long a credential has left, in words, glyphs and threshold levels (docs/tui.md §4).

The thresholds are botocore's: at 15 minutes SDKs start refreshing (advisory window) and call
``credential_process`` on every request; at 10 minutes they block on refresh (mandatory window).
Pure functions: no Textual, so they are fast to test and reusable by the CLI.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

__all__ = [
    "ADVISORY_SECONDS",
    "MANDATORY_SECONDS",
    "Level",
    "describe",
    "format_clock",
    "format_remaining",
    "glyph",
    "level_for",
    "repaint_interval",
]

ADVISORY_SECONDS = 15 * 60
MANDATORY_SECONDS = 10 * 60


class Level(enum.Enum):
    """A threshold level; each has a glyph, a word and a theme colour variable."""

    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"
    EXPIRED = "expired"

    @property
    def word(self) -> str:
        """The level in words, for the help legend and screen readers."""
        return {
            Level.OK: "valid",
            Level.WARN: "refresh soon",
            Level.CRITICAL: "refresh now",
            Level.EXPIRED: "expired",
        }[self]

    @property
    def style(self) -> str:
        """The Textual theme variable that colours it (the colour-blind theme remaps them)."""
        return {
            Level.OK: "$success",
            Level.WARN: "$warning",
            Level.CRITICAL: "$error",
            Level.EXPIRED: "$text-disabled",
        }[self]


_GLYPHS = {Level.OK: "✓", Level.WARN: "⚠", Level.CRITICAL: "‼", Level.EXPIRED: "✗"}
_ASCII_GLYPHS = {Level.OK: "+", Level.WARN: "!", Level.CRITICAL: "!!", Level.EXPIRED: "x"}


def level_for(seconds_left: float) -> Level:
    """The threshold level for ``seconds_left`` (≤ 0 is expired)."""
    if seconds_left <= 0:
        return Level.EXPIRED
    if seconds_left <= MANDATORY_SECONDS:
        return Level.CRITICAL
    if seconds_left <= ADVISORY_SECONDS:
        return Level.WARN
    return Level.OK


def glyph(level: Level, *, ascii_only: bool = False) -> str:
    """The level's glyph (``--ascii`` swaps in plain characters)."""
    return (_ASCII_GLYPHS if ascii_only else _GLYPHS)[level]


def _span(seconds: int) -> str:
    """``11h 42m`` at or above an hour, ``14m 05s`` below it."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m {secs:02d}s"


def format_remaining(seconds_left: float) -> str:
    """``11h 42m``, ``14m 05s``, or ``expired 3m ago`` (whole seconds, rounded down)."""
    whole = int(seconds_left)
    if seconds_left <= 0:
        ago = -whole
        if ago < 60:
            return f"expired {ago}s ago"
        if ago < 3600:
            return f"expired {ago // 60}m ago"
        return f"expired {ago // 3600}h ago"
    return _span(whole)


def describe(seconds_left: float, *, ascii_only: bool = False) -> str:
    """Glyph and remaining time together, so colour is never the only signal."""
    return (
        f"{glyph(level_for(seconds_left), ascii_only=ascii_only)} {format_remaining(seconds_left)}"
    )


def format_clock(expiration: datetime, now: datetime | None = None) -> str:
    """Local clock time with the span: ``17:42 (in 1h 05m)`` or ``17:42 (expired 3m ago)``."""
    current = now or datetime.now(UTC)
    left = (expiration - current).total_seconds()
    local = expiration.astimezone().strftime("%H:%M")
    if left <= 0:
        return f"{local} ({format_remaining(left)})"
    return f"{local} (in {_span(int(left))})"


def repaint_interval(seconds_left: float) -> float:
    """How often a countdown needs repainting: every second under an hour, else each minute."""
    return 1.0 if seconds_left < 3600 else 60.0
