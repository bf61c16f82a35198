"""Fixtures every tier shares: an isolated data directory and the real ``broker`` command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from broker.sts.state import StsState
from tests.keyring_daemon import RunKeyringDaemon

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "config"

RunBroker = Callable[..., subprocess.CompletedProcess[str]]


_KEYRING_DAEMON = RunKeyringDaemon.from_environment()
_last_checked = ["the start of the run"]  # the test after which the daemon was last seen well


@pytest.fixture(autouse=True)
def run_keyring_daemon_survives(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test during which the run's gnome-keyring daemon died or lost its name, and
    stops the run there: every later keyring test would only fail for the same reason."""
    if _KEYRING_DAEMON is None:  # not under scripts/with-keyring
        yield
        return
    before = _KEYRING_DAEMON.problem()
    if before is not None:
        request.session.shouldstop = before
        pytest.fail(f"after {_last_checked[0]}, before this test: {before}", pytrace=False)
    yield
    after = _KEYRING_DAEMON.problem()
    if after is not None:
        request.session.shouldstop = after
        pytest.fail(f"during this test: {after}", pytrace=False)
    _last_checked[0] = request.node.nodeid


@pytest.fixture
def broker_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private BROKER_HOME (0700) for one test; BROKER_CONFIG points at the shipped config."""
    home = tmp_path / "broker-home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("BROKER_HOME", str(home))
    monkeypatch.setenv("BROKER_CONFIG", str(CONFIG))
    yield home


@pytest.fixture
def sts_state(tmp_path: Path) -> Iterator[StsState]:
    """The one server-side state in an embedded SQLite database under ``tmp_path``."""
    from broker.sts.state import open_sts_state

    state = open_sts_state(None, tmp_path / "state")
    yield state
    state.close()


@pytest.fixture
def run_broker(broker_home: Path) -> RunBroker:
    """Run ``python -m broker ARGS`` as a real process, with this checkout first on the path."""

    def run(
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        check_stderr_clean: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), *filter(None, [full_env.get("PYTHONPATH")])]
        )
        full_env.update(env or {})
        result = subprocess.run(
            [sys.executable, "-m", "broker", *args],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        if check_stderr_clean:
            assert result.stderr == "", result.stderr
        return result

    return run


def one_line(text: str) -> str:
    """Assert ``text`` is exactly one non-empty line and return it (error-message rule)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {len(lines)}: {text!r}"
    return lines[0]


def addresses_beside_loopback_one() -> list[str]:
    """IPv4 addresses a listener bound to all interfaces (or to the host's address) would
    answer on but one bound to 127.0.0.1 does not: 127.0.0.2 (the rest of the loopback /8,
    present on every Linux host, so the list is never empty) and the host's own addresses."""
    import socket

    found = {"127.0.0.2"}
    for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
        found.add(str(info[4][0]))
    found.discard("127.0.0.1")
    return sorted(found)


def json_arg(data: object) -> str:
    import json

    return json.dumps(data)


def argv(*parts: str | Sequence[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        out.extend([part] if isinstance(part, str) else part)
    return out
