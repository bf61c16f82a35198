"""The refresher's status record: what ``broker refresh --watch`` last did, for the TUI to show.

The watcher rewrites one small JSON file under the data directory after every round (atomically,
0600, through ``broker.private_files``): its pid, when it started, when the last round
ran and the next is due, the profiles that round refreshed, and the last error as one line.
Nothing in it is secret: profile names and the broker's own one-line error messages, which never
carry a key or token.

A reader cannot trust the file alone (a killed watcher leaves it behind), so ``read_status``
also asks whether the pid is alive and whether the record is older than two rounds: either
failing means the watcher is stopped.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from broker.errors import SignInAgain, StoreError
from broker.private_files import PrivateFiles

__all__ = [
    "RefresherState",
    "RefresherStatus",
    "StatusView",
    "one_line",
    "pid_alive",
    "read_status",
    "status_path",
    "write_status",
]

_MAX_ERROR = 200
_FILES = PrivateFiles(StoreError)


class RefresherState(Enum):
    RUNNING = "running"
    STOPPED = "stopped"
    NEVER = "never started"


@dataclass(frozen=True)
class RefresherStatus:
    """One watcher's record.

    Args:
        pid: the watcher's process id.
        started: when it started.
        last_round: when its last round ended (``None`` before the first one ends).
        next_round: when the next round is due (``None`` while a round runs).
        refreshed: the profiles the last round refreshed.
        last_error: the last problem as one line (``None`` when the last round had none).
        sign_in: that problem's fix when it is a new sign-in: the provider, and the terminal
            app's words for it (``broker.login_advice``), which replace the command line's
            at the end of ``last_error`` when the app shows it.
        ended: when it stopped cleanly (``None`` while it runs, or if it was killed).
    """

    pid: int
    started: datetime
    last_round: datetime | None = None
    next_round: datetime | None = None
    refreshed: tuple[str, ...] = ()
    last_error: str | None = None
    ended: datetime | None = None
    sign_in: SignInAgain | None = None

    @property
    def last_error_for_app(self) -> str | None:
        """``last_error`` with the terminal app's advice where the fix is a new sign-in."""
        error, advice = self.last_error, self.sign_in
        if error is None or advice is None or not error.endswith(advice):
            return error
        return error.removesuffix(advice) + advice.tui

    def to_json(self) -> dict[str, object]:
        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "pid": self.pid,
            "started": when(self.started),
            "last_round": when(self.last_round),
            "next_round": when(self.next_round),
            "refreshed": list(self.refreshed),
            "last_error": self.last_error,
            "sign_in": (
                None
                if self.sign_in is None
                else {
                    "provider": self.sign_in.provider,
                    "cli": str(self.sign_in),
                    "tui": self.sign_in.tui,
                }
            ),
            "ended": when(self.ended),
        }

    @classmethod
    def from_json(cls, data: object) -> RefresherStatus:
        """Raises ``ValueError`` (or ``KeyError``/``TypeError``) on a malformed record."""
        if not isinstance(data, dict):
            raise ValueError("not an object")

        def when(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        pid = data["pid"]
        started = when("started")
        refreshed = data.get("refreshed") or []
        error = data.get("last_error")
        if not isinstance(pid, int) or started is None or not isinstance(refreshed, list):
            raise ValueError("missing pid or start time")
        return cls(
            pid=pid,
            started=started,
            last_round=when("last_round"),
            next_round=when("next_round"),
            refreshed=tuple(str(name) for name in refreshed),
            last_error=str(error) if error is not None else None,
            sign_in=_sign_in_of(data.get("sign_in")),
            ended=when("ended"),
        )


def _sign_in_of(value: object) -> SignInAgain | None:
    """The record's ``sign_in`` entry (absent in records of older watchers: no advice)."""
    if not isinstance(value, dict):
        return None
    provider, cli, tui = (value.get(key) for key in ("provider", "cli", "tui"))
    if not (isinstance(provider, str) and isinstance(cli, str) and isinstance(tui, str)):
        return None
    return SignInAgain(cli, provider=provider, tui=tui)


@dataclass(frozen=True)
class StatusView:
    """What a reader concludes: the state, the record behind it, and why in words."""

    state: RefresherState
    status: RefresherStatus | None
    reason: str


def status_path(data_dir: Path) -> Path:
    return data_dir / "refresher" / "status.json"


def one_line(text: str) -> str:
    """``text`` on one line, cut to a short length (the record is for a status bar)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_ERROR else flat[: _MAX_ERROR - 1] + "…"


def write_status(data_dir: Path, status: RefresherStatus) -> None:
    """Replace the record atomically (0600 file in a 0700 directory).

    Raises:
        StoreError: the directory or file is not private, or cannot be written.
    """
    if status.last_error is not None:
        status = dataclasses.replace(status, last_error=one_line(status.last_error))
    data = json.dumps(status.to_json(), sort_keys=True).encode()
    _FILES.write_bytes(status_path(data_dir), data)


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists (another user's counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(status: RefresherStatus, now: datetime) -> bool:
    """More than two intervals past the last round (a hung or suspended watcher)."""
    if status.last_round is None or status.next_round is None:
        return False  # the first round, or one in progress: the pid check decides
    interval = max(status.next_round - status.last_round, timedelta(seconds=1))
    return now > status.last_round + 2 * interval


def read_status(
    data_dir: Path, now: datetime, *, alive: Callable[[int], bool] = pid_alive
) -> StatusView:
    """The watcher's state from its record.

    Raises:
        StoreError: the record is readable by others or not a plain file.
    """
    raw = _FILES.read_bytes(status_path(data_dir))
    if raw is None:
        return StatusView(RefresherState.NEVER, None, "`broker refresh --watch` has not run here")
    try:
        status = RefresherStatus.from_json(json.loads(raw))
    except (ValueError, KeyError, TypeError):
        raise StoreError(
            f"{status_path(data_dir)} is damaged; remove it (the watcher rewrites it)"
        ) from None
    if status.ended is not None:
        return StatusView(RefresherState.STOPPED, status, "stopped")
    if not alive(status.pid):
        return StatusView(RefresherState.STOPPED, status, f"pid {status.pid} is gone")
    if _stale(status, now):
        return StatusView(RefresherState.STOPPED, status, "no round for two intervals")
    return StatusView(RefresherState.RUNNING, status, f"pid {status.pid}")
