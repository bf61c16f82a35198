"""The quickstart scripts as they run: scripts/setup's split and stamp, and
scripts/session-keyring's keyring for one headless session (random password, nothing left
behind, the broker's own data kept in the user's directories)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.integration]

_FAKE_PYTHON = """#!/bin/bash
# Stands in for python: `-m venv DIR` makes DIR/bin/python (this script); anything else is
# recorded, so the test sees every pip run.
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && exit 0
fi
echo "$*" >> "$CALLS"
"""


@pytest.fixture
def setup_copy(tmp_path: Path) -> tuple[Path, dict[str, str], Path]:
    tree = tmp_path / "checkout"
    (tree / "scripts").mkdir(parents=True)
    for name in ("pyproject.toml", "setup.py"):
        shutil.copy2(REPO / name, tree / name)
    shutil.copy2(REPO / "scripts" / "setup", tree / "scripts" / "setup")
    fake = tmp_path / "python"
    fake.write_text(_FAKE_PYTHON)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    env = {**os.environ, "PYTHON": str(fake), "CALLS": str(calls)}
    return tree, env, calls


def _setup(tree: Path, env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [str(tree / "scripts" / "setup"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_run_setup_installs_runtime_only_and_pip_runs_again_only_on_change(setup_copy) -> None:
    tree, env, calls = setup_copy
    _setup(tree, env, "--runtime", "--no-system")
    _setup(tree, env, "--runtime", "--no-system")
    assert calls.read_text().splitlines() == ["-m pip install -q --disable-pip-version-check -e ."]
    assert (tree / ".venv-run" / "bin" / "python").is_file()
    assert not (tree / ".venv").exists()

    with (tree / "pyproject.toml").open("a") as handle:
        handle.write("\n# a dependency changed\n")
    _setup(tree, env, "--runtime", "--no-system")
    assert len(calls.read_text().splitlines()) == 2


def test_test_setup_uses_the_dev_extra_in_its_own_venv(setup_copy) -> None:
    tree, env, calls = setup_copy
    _setup(tree, env, "--no-system", "--no-peers")
    _setup(tree, env, "--no-system", "--no-peers")
    assert calls.read_text().splitlines() == [
        "-m pip install -q --disable-pip-version-check -e .[dev]"
    ]
    assert not (tree / ".venv-run").exists()


_SESSION = """
set -eu
bus_pid() {
  dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.GetConnectionUnixProcessID "string:$1" | awk '{print $2}'
}
echo "keyring-pid $(bus_pid org.freedesktop.secrets)"
echo "bus-pid $(bus_pid org.freedesktop.DBus)"
python -m broker login demo --user-hint alice
python - <<'PY'
import keyring
keyring.set_password("access-broker-test", "probe", "kept-for-the-session")
print("read-back", keyring.get_password("access-broker-test", "probe"))
print("backend", type(keyring.get_keyring()).__module__)
PY
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text()


def _ends_soon(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_a_headless_session_gets_a_keyring_that_goes_away_with_it(tmp_path: Path) -> None:
    for tool in ("dbus-run-session", "dbus-send", "gnome-keyring-daemon"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/setup"
    home = tmp_path / "home"
    home.mkdir()
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BROKER_", "DBUS_", "GNOME_KEYRING", "XDG_"))
    }
    env.update(
        HOME=str(home),
        TMPDIR=str(temp),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        PYTHONPATH=str(REPO),
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )
    result = subprocess.run(
        [str(REPO / "scripts" / "session-keyring"), "sh", "-c", _SESSION],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    facts = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert facts["read-back"] == "kept-for-the-session"
    assert facts["backend"] == "keyring.backends.SecretService"
    assert "started one for this session only" in result.stderr
    assert "Signed in to demo as alice@example.com." in result.stderr

    # Nothing outlives the session: no daemon, no bus, no temporary files. session-keyring
    # waits for its gnome-keyring; dbus-run-session sends its bus SIGTERM as it exits without
    # waiting for it, so the bus is given a bounded moment to finish exiting.
    assert not _alive(int(facts["keyring-pid"])), "gnome-keyring-daemon was left running"
    assert _ends_soon(int(facts["bus-pid"])), "the private dbus-daemon was left running"
    assert list(temp.iterdir()) == []
    # The broker's own data stayed in the user's data directory, outside the keyring's.
    data = home / ".local" / "share" / "access-broker"
    assert (data / "store" / "index.json").is_file()
    assert not (home / ".local" / "share" / "keyrings").exists()


def test_the_scripts_hold_no_keyring_password() -> None:
    for name in ("run", "shell", "session-keyring"):
        text = (REPO / "scripts" / name).read_text()
        assert "--unlock" not in text or "/dev/urandom" in text, name
        assert "printf 'test-unlock'" not in text, name
