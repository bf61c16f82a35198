"""``--duration`` and ``--region`` as given on ``exec``, ``env`` and ``credential-process``.

A duration is seconds (``3600``) or hours/minutes/seconds (``1h``, ``90m``, ``1h30m``), as
``aws-vault exec --duration`` takes it; it must lie in STS's own range for a session, 15
minutes to 36 hours. Within that range the role's own maximum decides: the minter refuses a
longer one (never clamps), with its one-line error.
"""

from __future__ import annotations

import re

from broker.errors import UsageError

__all__ = ["MAX_SECONDS", "MIN_SECONDS", "parse_duration", "parse_region"]

MIN_SECONDS = 900
MAX_SECONDS = 129_600
_UNITS = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+){1,3}$")


def parse_duration(text: str) -> int:
    """Seconds from ``3600``, ``1h``, ``90m``, ``1h30m`` or ``2h0m30s``.

    Raises:
        UsageError: not a duration, or outside 15 minutes to 36 hours.
    """
    value = text.strip().lower()
    if value.isdigit():
        seconds = int(value)
    else:
        match = _UNITS.match(value)
        if not value or match is None:
            raise UsageError(
                f"--duration {text!r} is not a duration: give seconds or hours and minutes, "
                "like 3600, 90m or 1h30m"
            )
        hours, minutes, secs = (int(part) if part else 0 for part in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise UsageError(
            f"--duration {text} is {seconds} s; sessions last 15 minutes to 36 hours "
            f"({MIN_SECONDS}-{MAX_SECONDS} s), and the role's own maximum may be lower"
        )
    return seconds


def parse_region(text: str) -> str:
    """A region name as given.

    Raises:
        UsageError: not shaped like a region (``eu-west-1``).
    """
    if not _REGION.match(text):
        raise UsageError(f"--region {text!r} is not a region name (like eu-west-1)")
    return text
