"""``broker refresh --watch`` as a real process: its status record, and SIGTERM ending it
promptly, between rounds and in the middle of one (an IdP that accepts and never answers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.client.refresher_status import (
    RefresherState,
    RefresherStatus,
    read_status,
    status_path,
)
from broker.minters.base import Credentials
from broker.store.credential_store import CredentialStore
from tests.client_support import write_config
from tests.conftest import REPO

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

PROMPT = 5.0  # seconds SIGTERM may take to end the watcher


def _expired() -> Credentials:
    return Credentials(
        access_key_id="BKIAWATCHSTATUS00001",
        secret_access_key="w" * 40,
        session_token="watch-token",
        expiration=datetime.now(UTC) - timedelta(minutes=1),
    )


def _start(env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **(env_extra or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "broker", "refresh", "--watch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )


def _terminate_promptly(proc: subprocess.Popen[str]) -> tuple[float, str]:
    """SIGTERM; seconds until it exited and its stderr. Kills and fails if it hangs."""
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        _out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate(timeout=10)
        pytest.fail("broker refresh --watch did not exit within 20 s of SIGTERM")
    return time.monotonic() - sent, err


def _wait_for(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def watched(secret_service: None, broker_home: Path, tmp_path: Path, monkeypatch) -> Path:
    """A profile whose credentials expired and whose provider nobody signed in to."""
    monkeypatch.setenv("BROKER_CONFIG", str(write_config(tmp_path / "config")))
    CredentialStore(broker_home).save_credentials(
        "dev", provider="corp", account="111122223333", role="Developer", credentials=_expired()
    )
    return broker_home


def test_status_reads_never_started_then_running_then_stopped_after_sigterm(
    watched: Path,
) -> None:
    assert read_status(watched, datetime.now(UTC)).state is RefresherState.NEVER
    proc = _start()
    try:
        _wait_for(
            lambda: (
                status_path(watched).exists()
                and read_status(watched, datetime.now(UTC)).status is not None
                and read_status(watched, datetime.now(UTC)).status.last_round is not None  # type: ignore[union-attr]
            ),
            "the first round's status record",
        )
        view = read_status(watched, datetime.now(UTC))
        assert view.state is RefresherState.RUNNING
        assert view.status is not None and view.status.pid == proc.pid
        assert view.status.next_round is not None and view.status.next_round > datetime.now(UTC)
        assert view.status.last_error is not None
        assert view.status.last_error.startswith("dev: not signed in to corp")
        assert "\n" not in view.status.last_error
        # the fix is a new sign-in: the record also holds the terminal app's words for it
        assert view.status.sign_in is not None and view.status.sign_in.provider == "corp"
        assert view.status.last_error.endswith("run `broker login corp`")
        assert view.status.last_error_for_app == (
            "dev: not signed in to corp: press s to sign in to corp again"
        )
        assert status_path(watched).stat().st_mode & 0o777 == 0o600
    finally:
        took, err = _terminate_promptly(proc)
    assert took < PROMPT, err
    assert proc.returncode == 0, err
    view = read_status(watched, datetime.now(UTC))
    assert view.state is RefresherState.STOPPED
    assert view.status is not None and view.status.ended is not None


def test_a_killed_watcher_reads_stopped(watched: Path) -> None:
    proc = _start()
    try:
        _wait_for(lambda: status_path(watched).exists(), "the status record")
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    view = read_status(watched, datetime.now(UTC))
    assert view.state is RefresherState.STOPPED
    assert view.reason == f"pid {proc.pid} is gone"


@pytest.fixture
def stalled_idp() -> Iterator[tuple[int, threading.Event]]:
    """A TCP listener on loopback that accepts and never answers; the event is set on accept."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    connected = threading.Event()
    done = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            connected.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], connected
    finally:
        done.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


def test_sigterm_ends_the_watcher_in_the_middle_of_a_round(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    monkeypatch,
    stalled_idp: tuple[int, threading.Event],
) -> None:
    from broker.signin import LoginInput, run_login
    from providers.testing import SilentUI
    from tests.client_support import TestIdP

    port, connected = stalled_idp
    extra = (
        f'\n[providers.slow]\ntype = "oidc"\nissuer = "http://127.0.0.1:{port}"\n'
        'client_id = "broker"\n\n'
        '[profiles.stuck]\naccount = "111122223333"\nrole = "Developer"\nprovider = "slow"\n'
    )
    config = write_config(tmp_path / "config", extra)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    store = CredentialStore(broker_home)
    # A sign-in that has ended but can be refreshed: the round asks the (stalled) IdP.
    idp = TestIdP(name="slow", lifetime=-60)
    run_login(LoginInput(provider="slow"), store=store, build=lambda _n: idp, ui=SilentUI())
    store.save_credentials(
        "stuck", provider="slow", account="111122223333", role="Developer", credentials=_expired()
    )
    proc = _start()
    try:
        assert connected.wait(30), "the watcher never asked the IdP"
        time.sleep(0.3)  # inside the HTTP read now, which would block for the client timeout
        assert proc.poll() is None
    finally:
        took, err = _terminate_promptly(proc)
    assert took < PROMPT, err
    assert "Traceback" not in err
    view = read_status(broker_home, datetime.now(UTC))
    assert view.state is RefresherState.STOPPED


def test_each_round_records_what_it_refreshed(
    secret_service: None, broker_home: Path, tmp_path: Path
) -> None:
    """``watch`` in-process with a real store and chain: the record after a round names the
    profile that round re-minted and when the next is due; SIGTERM (raised by the handler,
    here from the sleep) ends it with the end written."""
    import random

    from broker.client.chain import Chain
    from broker.client.profiles import Profile
    from broker.client.refresher import Refresher
    from broker.client.watch import Terminated, watch
    from broker.signin import LoginInput, run_login
    from providers.testing import SilentUI
    from tests.client_support import CountingMinter, TestIdP

    dev = Profile("dev", "corp", "111122223333", "Developer", "local", 3600, None)
    idp = TestIdP()
    store = CredentialStore(broker_home)
    run_login(LoginInput(provider="corp"), store=store, build=lambda _n: idp, ui=SilentUI())
    store.save_credentials(
        "dev", provider="corp", account="111122223333", role="Developer", credentials=_expired()
    )
    minter = CountingMinter(tmp_path / "mints.log")
    chain = Chain(store=store, minter=lambda _p: minter, provider=lambda _n: idp)
    refresher = Refresher(chain, [dev], report=lambda _line: None, rng=random.Random(3))
    seen: list[RefresherStatus] = []

    def sleep(seconds: float) -> None:
        view = read_status(broker_home, datetime.now(UTC))
        assert view.state is RefresherState.RUNNING and view.status is not None
        seen.append(view.status)
        assert seconds > 0
        raise Terminated

    watch(refresher, broker_home, report=lambda _line: None, sleep=sleep)
    (during,) = seen
    assert during.refreshed == ("dev",) and during.last_error is None
    assert during.pid == os.getpid() and during.next_round is not None
    assert minter.count() == 1
    after = read_status(broker_home, datetime.now(UTC))
    assert after.state is RefresherState.STOPPED and after.status is not None
    assert after.status.ended is not None
    assert after.status.refreshed == ("dev",)
