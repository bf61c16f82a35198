"""Session durations for the mint dialog: free entry, presets, and the ceiling with its reason.

AWS STS limits (docs/tui.md §5): every call allows 900 s at least; AssumeRole* up to the role's
MaxSessionDuration (1–12 h); role chaining at most 1 h; GetSessionToken / GetFederationToken up
to 36 h. A policy may lower the ceiling further. The dialog states the ceiling and why before
the user asks, and refuses out-of-range entries instead of clamping them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_SECONDS",
    "MAX_SECONDS",
    "MIN_SECONDS",
    "PRESETS",
    "Ceiling",
    "Preset",
    "ceiling_for",
    "check_duration",
    "format_duration",
    "parse_duration",
    "presets_under",
]

MIN_SECONDS = 900
MAX_SECONDS = 129_600
DEFAULT_SECONDS = 3600
ROLE_CHAINING_SECONDS = 3600
PRESETS: tuple[int, ...] = (900, 3600, 4 * 3600, 8 * 3600, 12 * 3600, 36 * 3600)

_PART = re.compile(r"(\d+)\s*([hms])", re.IGNORECASE)
_WHOLE = re.compile(r"^(?:\s*\d+\s*[hms]\s*)+$", re.IGNORECASE)
_UNIT = {"h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> int:
    """Seconds in ``2h30m``, ``90m``, ``1h``, ``45m 30s``.

    Raises:
        ValueError: not a duration (the message shows the expected form).
    """
    cleaned = text.strip()
    if not cleaned or not _WHOLE.match(cleaned):
        raise ValueError(f"{text.strip() or 'empty'} is not a duration; write it like 2h30m or 45m")
    seen: set[str] = set()
    total = 0
    for number, unit in _PART.findall(cleaned):
        key = unit.lower()
        if key in seen:
            raise ValueError(f"{cleaned}: {key} given twice; write it like 2h30m")
        seen.add(key)
        total += int(number) * _UNIT[key]
    return total


def format_duration(seconds: int) -> str:
    """``15m``, ``1h``, ``2h30m``, ``36h`` (the inverse of ``parse_duration`` for whole minutes)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"


@dataclass(frozen=True)
class Ceiling:
    """The longest session a request may ask for, and why (shown as ``max 12h (…)``)."""

    seconds: int
    reason: str

    def __str__(self) -> str:
        return f"max {format_duration(self.seconds)} ({self.reason})"


def ceiling_for(
    *,
    role_max_seconds: int | None,
    chained: bool = False,
    policy_limit: tuple[int, str] | None = None,
) -> Ceiling:
    """The ceiling for a request.

    Args:
        role_max_seconds: the role's MaxSessionDuration (AssumeRole*), or None for
            GetSessionToken-style calls that allow 36 h.
        chained: the caller is already in a role session (role chaining caps at 1 h).
        policy_limit: ``(seconds, policy name)`` when a broker policy lowers the limit.
    """
    if role_max_seconds is None:
        best = Ceiling(MAX_SECONDS, "GetSessionToken")
    else:
        best = Ceiling(role_max_seconds, "role MaxSessionDuration")
    if chained and ROLE_CHAINING_SECONDS < best.seconds:
        best = Ceiling(ROLE_CHAINING_SECONDS, "role chaining")
    if policy_limit is not None and policy_limit[0] < best.seconds:
        best = Ceiling(policy_limit[0], f"policy: {policy_limit[1]}")
    return best


def check_duration(seconds: int, ceiling: Ceiling) -> str | None:
    """None when ``seconds`` may be requested, else one line saying why not and what to do."""
    if seconds < MIN_SECONDS:
        return f"{format_duration(seconds)} is below the 15m minimum; ask for 15m or more"
    if seconds > ceiling.seconds:
        most = format_duration(ceiling.seconds)
        return f"{format_duration(seconds)} is over the {ceiling}; ask for {most} or less"
    return None


@dataclass(frozen=True)
class Preset:
    """One preset button: disabled presets stay visible with the reason."""

    seconds: int
    enabled: bool
    reason: str | None

    @property
    def label(self) -> str:
        return format_duration(self.seconds)


def presets_under(ceiling: Ceiling) -> tuple[Preset, ...]:
    """Every preset, each enabled only when it fits under ``ceiling``."""
    return tuple(
        Preset(seconds, True, None)
        if seconds <= ceiling.seconds
        else Preset(seconds, False, f"over {ceiling}")
        for seconds in PRESETS
    )
