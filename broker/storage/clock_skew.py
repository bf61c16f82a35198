"""One clock for replicas: each compares its own with the database's and refuses to serve when
they differ by more than ``MAX_CLOCK_SKEW``.

Revocation is "sessions issued before T". Issue times are stamped by the replica that mints and
cutoffs by whoever revokes; on different machines those are different clocks, and a replica
running ahead mints sessions whose issue time lies after a cutoff written a moment later — they
would survive the revocation. So cutoffs are taken from the database's clock and widened by
``MAX_CLOCK_SKEW`` (``broker.sts.revocation.revoke``), and a replica whose clock is further than
that from the database's answers ``ServiceUnavailable`` until it is corrected (its SigV4 window
would be off too). A stamp from a replica within the bound is then always below a cutoff
written after the mint, whatever the two machines' clocks say.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from broker.errors import ConfigError
from broker.storage.database import Database

__all__ = ["MAX_CLOCK_SKEW", "ClockGuard", "measure_offset"]

MAX_CLOCK_SKEW = timedelta(seconds=5)
"""The most a replica's clock may differ from the database's (NTP keeps hosts within ms)."""

CHECK_EVERY_SECONDS = 5.0

_log = logging.getLogger("broker.server")


def measure_offset(
    database: Database, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> timedelta:
    """The database's clock minus ours, read at the middle of one round trip."""
    before = clock()
    theirs = database.now()
    after = clock()
    return theirs - (before + (after - before) / 2)


class ClockGuard:
    """This process's clock against the database's, re-measured every few seconds.

    ``skew()`` answers at once from the last reading (a request never waits for it); a failed
    reading (the database is down) keeps the last one, since requests then fail on their own.
    """

    def __init__(
        self,
        database: Database,
        *,
        bound: timedelta = MAX_CLOCK_SKEW,
        every: float = CHECK_EVERY_SECONDS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self.bound = bound
        self._every = every
        self._clock = clock
        self._offset = timedelta(0)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def measure(self) -> None:
        """Read the offset now (at start, then from the background thread)."""
        try:
            offset = measure_offset(self._database, self._clock)
        except ConfigError:  # down or failing: the requests themselves are refused meanwhile
            return
        if abs(offset) > self.bound and abs(self._offset) <= self.bound:
            _log.error(
                "this replica's clock differs from the database's by %.1f s (at most %.0f s "
                "allowed): refusing STS calls until it is corrected",
                -offset.total_seconds(),
                self.bound.total_seconds(),
            )
        self._offset = offset

    def probe(self) -> dict[str, str]:
        """What is wrong now, read afresh (``/health``): ``{}`` when the database answers and
        our clock is within the bound, else ``stateStore`` and/or ``clock`` with a reason."""
        try:
            self._offset = measure_offset(self._database, self._clock)
        except ConfigError:
            return {"stateStore": "unavailable"}
        skew = self.skew()
        if skew is None:
            return {}
        return {
            "clock": f"{skew.total_seconds():+.1f} s from the state store's "
            f"(at most {self.bound.total_seconds():.0f} s allowed)"
        }

    def skew(self) -> timedelta | None:
        """How far our clock is from the database's when beyond the bound, else None."""
        offset = self._offset
        return -offset if abs(offset) > self.bound else None

    def start(self) -> None:
        """Measure now, then every ``every`` seconds on a daemon thread until ``stop``."""
        self.measure()

        def run() -> None:
            while not self._stop.wait(self._every):
                self.measure()

        self._thread = threading.Thread(target=run, name="clock-guard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
