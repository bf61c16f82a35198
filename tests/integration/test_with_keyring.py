"""scripts/with-keyring, the test suite's Secret Service, through real processes: it hands the
command an unlocked gnome-keyring it owns, leaves no daemon or file behind, refuses a second
keyring on the same bus, and a daemon that dies mid-run fails the test during which it died
(and stops the run there) instead of every keyring test after it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.integration]

WITH_KEYRING = str(REPO / "scripts" / "with-keyring")


def _private_env(**extra: str) -> dict[str, str]:
    """This process's environment without its bus and keyring: the call gets its own."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DBUS_", "GNOME_KEYRING", "BROKER_TEST_KEYRING", "XDG_"))
    }
    env.update(
        PYTHONPATH=str(REPO),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        **extra,
    )
    return env


def _on_a_private_bus(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/setup"
    return subprocess.run(
        ["dbus-run-session", "--", WITH_KEYRING, *command],
        env=_private_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )


def _gone(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "zombie" in status.read_text()


_PROBE = """
import os
from contextlib import closing
import secretstorage
from tests.keyring_daemon import secrets_owner_pid
with closing(secretstorage.dbus_init()) as connection:
    collection = secretstorage.get_default_collection(connection)
    print("locked", collection.is_locked())
print("owner", secrets_owner_pid(os.environ["BROKER_TEST_KEYRING_BUS"]))
print("pid", os.environ["BROKER_TEST_KEYRING_PID"])
print("home", os.environ["BROKER_TEST_KEYRING_HOME"])
"""


def test_the_command_gets_an_unlocked_keyring_and_nothing_outlives_it() -> None:
    result = _on_a_private_bus(sys.executable, "-c", _PROBE)
    assert result.returncode == 0, result.stderr
    facts = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert facts["locked"] == "False"
    assert facts["owner"] == facts["pid"]  # the daemon it started serves the name
    assert _gone(int(facts["pid"])), "gnome-keyring-daemon was left running"
    assert not Path(facts["home"]).exists(), "the throwaway keyring home was left behind"


def test_a_second_keyring_on_the_same_bus_is_refused() -> None:
    result = _on_a_private_bus("sh", "-c", f"{WITH_KEYRING} true")
    assert result.returncode == 1
    assert "org.freedesktop.secrets is already served on this bus" in result.stderr


_SUITE = textwrap.dedent(
    """
    import os
    import signal
    import time
    from pathlib import Path

    from tests.keyring_daemon import secrets_owner_pid


    def test_kills_the_keyring_daemon():
        os.kill(int(os.environ["BROKER_TEST_KEYRING_PID"]), signal.SIGKILL)
        record = Path(os.environ["BROKER_TEST_KEYRING_HOME"]) / "daemon.exit"
        deadline = time.monotonic() + 30
        while secrets_owner_pid(os.environ["BROKER_TEST_KEYRING_BUS"]) or not record.exists():
            assert time.monotonic() < deadline, "the killed daemon is still on the bus"
            time.sleep(0.05)


    def test_after_it():
        pass
    """
)


def test_a_daemon_dying_fails_the_test_it_died_in_and_stops_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_dies.py").write_text(_SUITE)
    result = _on_a_private_bus(
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "tests.conftest",
        "-p",
        "no:cacheprovider",
        "-q",
        "test_dies.py",
        cwd=tmp_path,
    )
    out = result.stdout
    assert result.returncode != 0, out
    assert "ERROR at teardown of test_kills_the_keyring_daemon" in out, out
    assert "during this test: the run's gnome-keyring-daemon (pid " in out, out
    assert "has exited (killed by SIGKILL at " in out, out
    assert "org.freedesktop.secrets is now served by nobody" in out, out
    assert "Interrupted: the run's gnome-keyring-daemon" in out, out
    assert "test_after_it" not in out, out  # the run stopped at the test that caused it
    assert "exited during the command (status and time: 137 " in result.stderr
