"""The run's own gnome-keyring daemon, watched from the test process.

``scripts/with-keyring`` starts one unlocked daemon per test run and exports its pid and bus
(``BROKER_TEST_KEYRING_PID``, ``BROKER_TEST_KEYRING_BUS``). Every keyring test depends on that
daemon: if it dies or another Secret Service takes its name (dbus-daemon auto-starts a fresh,
locked one on the next call), every later keyring test errors far from the cause. The suite
asks the bus who owns ``org.freedesktop.secrets`` before and after each test, so the test during
which the daemon went away is the one that fails, with the pid and the daemon's own words.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

SECRETS_NAME = "org.freedesktop.secrets"
PID_ENV = "BROKER_TEST_KEYRING_PID"
BUS_ENV = "BROKER_TEST_KEYRING_BUS"
HOME_ENV = "BROKER_TEST_KEYRING_HOME"


def secrets_owner_pid(bus: str) -> int | None:
    """The pid owning ``org.freedesktop.secrets`` on ``bus`` (an address), None when nobody
    does. Asks the bus daemon itself, so the question never activates a service."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    bus_object = DBusAddress(
        "/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus"
    )
    call = new_method_call(bus_object, "GetConnectionUnixProcessID", "s", (SECRETS_NAME,))
    with open_dbus_connection(bus) as connection:
        reply = connection.send_and_get_reply(call, timeout=10)
    if reply.header.message_type.name == "error":
        return None  # org.freedesktop.DBus.Error.NameHasNoOwner
    return int(reply.body[0])


@dataclass(frozen=True)
class RunKeyringDaemon:
    """The daemon ``scripts/with-keyring`` started for this run."""

    pid: int
    bus: str
    home: Path | None

    @classmethod
    def from_environment(cls) -> RunKeyringDaemon | None:
        """None when the tests do not run under ``scripts/with-keyring``."""
        pid, bus = os.environ.get(PID_ENV), os.environ.get(BUS_ENV)
        if not pid or not bus:
            return None
        home = os.environ.get(HOME_ENV)
        return cls(int(pid), bus, Path(home) if home else None)

    def problem(self) -> str | None:
        """What is wrong with the daemon now, or None when it still serves the name."""
        owner = secrets_owner_pid(self.bus)
        if owner == self.pid:
            return None
        ended = self._how_it_ended()
        state = f"has exited ({ended})" if ended else "is still running but lost the name"
        now = f"now served by pid {owner}" if owner is not None else "now served by nobody"
        return (
            f"the run's gnome-keyring-daemon (pid {self.pid}) {state}: {SECRETS_NAME} is "
            f"{now}{self._log_tail()}"
        )

    def _how_it_ended(self) -> str | None:
        """From the ``daemon.exit`` record scripts/with-keyring's watcher writes: its status
        (a signal's name when a signal ended it) and the time. None while it runs."""
        record = self.home / "daemon.exit" if self.home else None
        if record is None or not record.is_file():
            return "status not recorded yet" if self._gone() else None
        status_text, _, when = record.read_text().strip().partition(" ")
        status = int(status_text)
        if status > 128:
            try:
                how = f"killed by {signal.Signals(status - 128).name}"
            except ValueError:
                how = f"status {status}"
        else:
            how = f"exit status {status}"
        return f"{how} at {when}"

    def _gone(self) -> bool:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except FileNotFoundError:
            return True
        return any(line.startswith("State:") and "Z" in line for line in status.splitlines())

    def _log_tail(self) -> str:
        log = self.home / "daemon.log" if self.home else None
        if log is None or not log.is_file():
            return ""
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        return f"; its last words: {' | '.join(lines[-5:])}" if lines else ""
