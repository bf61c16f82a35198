"""Real peers for integration tests: the Secret Service (present, unlocked, emptied of our
items) and ``broker serve`` started as a process with its own data directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from broker.keyring_gate.gate import SERVICE
from tests.conftest import CONFIG, REPO

# Session peers defined once here, so every module shares one PostgreSQL cluster and one moto
# server (a fixture imported into several test modules would start one per module).
from tests.integration.moto_peer import moto_federation, moto_peer, upstream_profile  # noqa: F401
from tests.postgres_peer import fresh_database, postgres_server  # noqa: F401


def _with_retries(action: Callable[[], None], attempts: int = 5) -> None:
    """gnome-keyring drops a file-backed collection's object for a moment while it reloads the
    file after many concurrent writes (as ``broker.store.keyring_store`` retries it): the
    fixture's own look-ups retry too rather than fail the next test."""
    from secretstorage.exceptions import SecretStorageException

    for attempt in range(attempts):
        try:
            action()
            return
        except SecretStorageException:
            if attempt + 1 == attempts:
                raise
            time.sleep(0.5)


def _delete_our_items() -> None:
    import secretstorage
    from secretstorage.exceptions import ItemNotFoundException

    def delete() -> None:
        with closing(secretstorage.dbus_init()) as connection:
            collection = secretstorage.Collection(connection)
            for item in collection.search_items({"service": SERVICE}):
                with suppress(ItemNotFoundException):  # gone already
                    item.delete()

    _with_retries(delete)


@pytest.fixture
def secret_service(broker_home: Path) -> Iterator[None]:
    """Fails (never skips) when no unlocked Secret Service is reachable; cleans our entries."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        pytest.fail(
            "no D-Bus session bus: run keyring tests under "
            "`dbus-run-session -- scripts/with-keyring python -m pytest ...`"
        )
    try:
        import secretstorage

        def check() -> None:
            with closing(secretstorage.dbus_init()) as connection:
                if not secretstorage.check_service_availability(connection):
                    raise RuntimeError("org.freedesktop.secrets is not on the bus")
                if secretstorage.Collection(connection).is_locked():
                    raise RuntimeError("the default collection is locked")

        _with_retries(check)
    except Exception as exc:
        pytest.fail(f"no usable Secret Service ({exc}); start it with scripts/with-keyring")
    _delete_our_items()
    yield
    _delete_our_items()


START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class BrokerServer:
    url: str
    home: Path
    env: dict[str, str]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "broker", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )


def start_server(
    home: Path,
    config: Path = CONFIG,
    extra_args: tuple[str, ...] = (),
    *,
    extra_env: dict[str, str] | None = None,
    healthy: bool = True,
) -> tuple[subprocess.Popen[bytes], BrokerServer]:
    """``broker serve`` on a free loopback port, data in ``home``, configuration from ``config``.

    Started when ``/health`` answers 200 (any answer when not ``healthy``: a replica expected
    to report itself unavailable)."""
    home.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ)
    env.update(extra_env or {})
    env.update(
        BROKER_HOME=str(home),
        BROKER_CONFIG=str(config),
        PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])]),
    )
    port = free_port()
    with (home / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "broker", "serve", "--port", str(port), *extra_args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            answered = httpx.get(f"{url}/health", timeout=1).status_code
            if answered == 200 or (not healthy and answered == 503):
                return process, BrokerServer(url, home, env)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    process.wait(timeout=10)
    output = (home / "serve.log").read_text(errors="replace")
    pytest.fail(f"broker serve did not start within {START_TIMEOUT}s:\n{output}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def broker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerServer]:
    process, server = start_server(tmp_path_factory.mktemp("serve") / "home")
    try:
        yield server
    finally:
        stop_server(process)
