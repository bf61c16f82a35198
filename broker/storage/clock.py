"""Times as the schema stores them: integer microseconds since the Unix epoch (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["from_micros", "micros"]


def micros(when: datetime) -> int:
    """``when`` (timezone-aware) as microseconds since the epoch."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: the broker stores UTC instants only")
    delta = when - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """Inverse of ``micros`` (UTC)."""
    seconds, rest = divmod(int(value), 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest)
