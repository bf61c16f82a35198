"""The replica's clock against the database's (``broker.storage.clock_skew``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broker.errors import StateStoreUnavailableError
from broker.storage.clock_skew import MAX_CLOCK_SKEW, ClockGuard, measure_offset

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


class _Database:
    def __init__(self, offset: timedelta) -> None:
        self.offset = offset
        self.down = False

    def now(self) -> datetime:
        if self.down:
            raise StateStoreUnavailableError("database x is unavailable")
        return T0 + self.offset


def test_offset_is_the_database_clock_minus_ours() -> None:
    assert measure_offset(_Database(timedelta(seconds=-7)), lambda: T0) == timedelta(seconds=-7)


@pytest.mark.parametrize(
    ("ours_ahead_by", "refused"),
    [(0, False), (3, False), (5, False), (6, True), (120, True), (-120, True)],
)
def test_a_clock_beyond_the_bound_is_reported(ours_ahead_by: int, refused: bool) -> None:
    guard = ClockGuard(_Database(timedelta(seconds=-ours_ahead_by)), clock=lambda: T0)
    guard.measure()
    skew = guard.skew()
    assert (skew is not None) is refused
    if refused:
        assert skew == timedelta(seconds=ours_ahead_by)
        assert "clock" in guard.probe()
    else:
        assert guard.probe() == {}
    assert MAX_CLOCK_SKEW == timedelta(seconds=5)


def test_a_database_that_is_down_keeps_the_last_reading_and_probes_unavailable() -> None:
    database = _Database(timedelta(seconds=-60))
    guard = ClockGuard(database, clock=lambda: T0)
    guard.measure()
    database.down = True
    guard.measure()
    assert guard.skew() == timedelta(seconds=60)
    assert guard.probe() == {"stateStore": "unavailable"}
