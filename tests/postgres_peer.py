"""A private PostgreSQL cluster for the tests: initdb in a temp dir, 127.0.0.1 on a free port.

Run as the ``postgres`` system user when the tests run as root (PostgreSQL refuses root),
with password (SCRAM) authentication over TCP and a password generated at test time. Each test
gets its own database (``fresh_database``), dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import free_port

START_TIMEOUT = 60


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    password: str
    data: Path | None = None
    options: str = ""

    def stop(self, mode: str = "fast") -> None:
        """Stop the cluster (``fast``, or ``immediate``: a crash, recovered at the next start)."""
        assert self.data is not None
        _run([_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"], 60)

    def start(self) -> None:
        """Start it again, on the same port, and wait until it accepts connections."""
        assert self.data is not None
        log = str(self.data.parent / "log")
        ctl = _bin("pg_ctl")
        argv = [ctl, "-D", str(self.data), "-o", self.options, "-l", log, "-w", "-t", "60"]
        _run([*argv, "start"], START_TIMEOUT + 10)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:{self.password}@{self.host}:{self.port}/{database}"


def _bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if found is None:
        pytest.fail(f"PostgreSQL's {name} is not installed; run scripts/setup (Debian postgresql)")
    return found


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class ClusterError(RuntimeError):
    """The private cluster could not be created or started."""


def _bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None
    )
    if found is None:
        raise ClusterError(
            f"PostgreSQL's {name} is not installed; run scripts/setup (Debian postgresql)"
        )
    return found


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], timeout: float) -> None:
    subprocess.run(_as_owner(argv), check=True, capture_output=True, timeout=timeout)


@contextmanager
def postgres_cluster() -> Iterator[PostgresServer]:
    """Create, start, yield, then stop and delete a private cluster (tests and benchmarks)."""
    root = Path(tempfile.mkdtemp(prefix="broker-pg-"))
    data = root / "data"
    password = secrets.token_urlsafe(24)
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    port = free_port()
    ctl = _bin("pg_ctl")
    initdb = [_bin("initdb"), "-D", str(data), "-U", "postgres", "--pwfile", str(pwfile)]
    initdb += ["--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8"]
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c max_connections=100"
    started = False
    try:
        try:
            _run([*initdb, "--no-instructions"], START_TIMEOUT)
            _run(
                [
                    ctl,
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(root / "log"),
                    "-w",
                    "-t",
                    str(START_TIMEOUT),
                    "start",
                ],
                START_TIMEOUT + 10,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            log = (root / "log").read_text()[-2000:] if (root / "log").exists() else ""
            raise ClusterError(f"PostgreSQL did not start: {exc} {log}") from None
        started = True
        yield PostgresServer("127.0.0.1", port, password, data, options)
    finally:
        try:
            if started:
                _run([ctl, "-D", str(data), "-m", "fast", "-w", "-t", "30", "stop"], 60)
        finally:
            shutil.rmtree(root, ignore_errors=True)


def cluster_or_fail() -> Iterator[PostgresServer]:
    """A private cluster for a fixture to yield from; a cluster that cannot start fails the
    test (never skips it)."""
    try:
        with postgres_cluster() as server:
            yield server
    except ClusterError as exc:
        pytest.fail(str(exc))


def current_database(server: PostgresServer, prefix: str) -> str:
    """The URL of a new database on ``server`` (named ``prefix`` and random hex) at this
    broker's schema, as ``broker db upgrade`` leaves it."""
    import psycopg

    from broker.storage.database import open_database
    from broker.storage.migrations import upgrade

    name = f"{prefix}_{secrets.token_hex(5)}"
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = server.url(name)
    database = open_database(url, pool_size=1)
    try:
        upgrade(database)
    finally:
        database.close()
    return url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from cluster_or_fail()


@pytest.fixture
def fresh_database(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database, dropped after the test."""
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.url(name)
    finally:
        deadline = time.monotonic() + 30
        with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
            while True:
                try:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    break
                except psycopg.errors.ObjectInUse:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
