"""``broker refresh --watch``'s loop: rounds, a status record after each, and a prompt SIGTERM.

Why SIGTERM raises instead of setting a ``threading.Event``: ``Event.set()`` takes the event's
condition lock, and a signal handler runs on the main thread between two bytecodes, possibly
while that same thread is inside ``Event.wait()`` holding that lock (entering or leaving the
``with``). The handler then waits forever on a lock its own thread holds, and the watcher never
exits (seen under load, where the window is hit more often). Raising ``Terminated`` touches no
lock, ends a sleep at once, and ends a round in progress too (a slow IdP or keyring call): the
store's file locks are released by ``finally`` blocks or by the kernel, and a mint cut short is
simply redone by the next refresher.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from broker.client.refresher import Outcome, Refresher
from broker.client.refresher_status import RefresherStatus, write_status
from broker.errors import BrokerError, SignInAgain

__all__ = ["Terminated", "watch"]


class Terminated(BaseException):
    """SIGTERM arrived (a ``BaseException``, so ``except Exception`` in libraries lets it by)."""


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends cleanup at once
    raise Terminated


def _last_failure(outcomes: Sequence[Outcome]) -> Outcome | None:
    failed = [o for o in outcomes if o.status in ("stopped", "retrying")]
    return failed[-1] if failed else None


def _last_error(outcomes: Sequence[Outcome]) -> str | None:
    failed = _last_failure(outcomes)
    return f"{failed.profile}: {failed.message}" if failed else None


def _sign_in_fix(outcomes: Sequence[Outcome]) -> SignInAgain | None:
    """The last failure's fix when it is a new sign-in (the terminal app words it its way)."""
    failed = _last_failure(outcomes)
    return failed.sign_in if failed else None


def watch(
    refresher: Refresher,
    data_dir: Path,
    report: Callable[[str], None],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run rounds until SIGTERM (or Ctrl-C), keeping the status record current.

    Must run on the main thread (it installs the SIGTERM handler). Returns after SIGTERM;
    ``KeyboardInterrupt`` is re-raised once the record says the watcher ended.

    Raises:
        ConfigError: a round found the configuration broken (as ``Refresher.round``).
    """
    status = RefresherStatus(pid=os.getpid(), started=clock())
    record_failed = False

    def record(new: RefresherStatus) -> None:
        nonlocal record_failed
        try:
            write_status(data_dir, new)
        except BrokerError as exc:
            if not record_failed:  # once: the watcher's job is refreshing, not the record
                report(f"cannot write the refresher status ({exc}); refreshing anyway")
            record_failed = True

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        record(status)
        waiting = False
        while True:
            outcomes = refresher.round()
            active = [o for o in outcomes if o.status != "stopped"]
            if refresher.stopped and not active and not waiting:
                report("nothing left to refresh; waiting for `broker login` (resumes by itself)")
            waiting = bool(refresher.stopped) and not active
            wait = refresher.next_wake(outcomes)
            now = clock()
            status = dataclasses.replace(
                status,
                last_round=now,
                next_round=now + wait,
                refreshed=tuple(o.profile for o in outcomes if o.status == "refreshed"),
                last_error=_last_error(outcomes),
                sign_in=_sign_in_fix(outcomes),
            )
            record(status)
            sleep(max(wait, timedelta(0)).total_seconds())
    except Terminated:
        record(dataclasses.replace(status, ended=clock()))
    except KeyboardInterrupt:
        record(dataclasses.replace(status, ended=clock()))
        raise
    finally:
        if signal.getsignal(signal.SIGTERM) is _terminate:
            signal.signal(signal.SIGTERM, previous)
