"""Client commands hold no database connection while they wait.

``broker exec`` gets its credentials, closes the state, then runs its command: while the
command runs, the PostgreSQL server lists no session of the broker's, and the broker holds
nothing open but its standard streams (on the embedded SQLite too). ``broker refresh --watch``
holds no session while it sleeps between rounds. ``broker serve-credentials`` opens the state
for each request and closes it after, so a server restarted between two requests (which breaks
any connection held across it) does not fail the next one, and a request while the server is
down fails in one line naming the database, the one after it is back succeeds. Through the
real CLI, the real Secret Service, a private PostgreSQL cluster (this module's own: the tests
restart it) and the local minter, whose mints land in the database's audit chain.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import open_database
from broker.store.credential_store import CredentialStore
from tests.conftest import REPO
from tests.integration.test_aws_cli_e2e import ALICE_PROFILE, _age, _sign_in_and_configure
from tests.integration.test_client_commands_cli import _serve_credentials
from tests.postgres_peer import PostgresServer, cluster_or_fail, current_database
from tests.waiting import wait_until

pytestmark = [pytest.mark.keyring, pytest.mark.integration]


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresServer]:
    """A cluster of this module's own: the tests stop and restart it."""
    yield from cluster_or_fail()


@pytest.fixture
def database_url(cluster: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    url = current_database(cluster, "c")
    monkeypatch.setenv("BROKER_DATABASE_URL", url)
    return url


def _sessions_of_others(url: str) -> list[tuple[object, ...]]:
    """Every session on the test's database but the one asking: only broker processes of
    the test connect to it."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid, application_name, client_port FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [tuple(row) for row in rows]


def _none_left(url: str) -> None:
    """Wait until no other session is on the test's database. A backend ends a moment after
    its client disconnects, so a closed connection may still be listed for that moment; one
    held open is listed until the timeout fails the test."""
    wait_until(
        lambda: _sessions_of_others(url) == [], "no broker session on the database", timeout=15
    )


def _open_files(pid: int) -> set[int]:
    """The descriptors process ``pid`` holds open (Linux: ``/proc``)."""
    return {int(fd) for fd in os.listdir(f"/proc/{pid}/fd")}


def _local_mints(url: str) -> list[dict[str, object]]:
    database = open_database(url, pool_size=1)
    try:
        records = list(SqlAuditLog(database).records())
    finally:
        database.close()
    return [r for r in records if r.get("userAgent") == "broker/local-minter"]


def _signed_in(run_broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aws_config = tmp_path / "aws" / "config"
    aws_config.parent.mkdir()
    _sign_in_and_configure(run_broker, "alice", aws_config, "--region", "eu-west-1")


CHILD = (
    "import os, sys\n"
    "print(os.environ['AWS_ACCESS_KEY_ID'], flush=True)\n"
    "print('ready', flush=True)\n"
    "sys.exit(0 if sys.stdin.readline().strip() == 'go' else 4)\n"
)


def _exec_and_look(broker_home: Path, look: Callable[[int], None]) -> None:
    """Run ``broker exec`` with a command that waits; while it waits, check that the
    credentials it got are those just minted and cached, then ``look(broker pid)``."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker", "exec", ALICE_PROFILE, "--", sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        key = proc.stdout.readline().strip()
        ready = proc.stdout.readline().strip()
        if ready != "ready":
            proc.kill()
            raise AssertionError(f"the command did not start: {proc.communicate()[1]}")
        cached = CredentialStore(broker_home).credentials(ALICE_PROFILE)
        assert cached is not None and key == cached.access_key_id  # those minted just now
        look(proc.pid)
        # Nor anything else: no keyring (D-Bus) connection, database file, lock or socket.
        assert _open_files(proc.pid) == {0, 1, 2}
        proc.stdin.write("go\n")
        proc.stdin.flush()
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err


def test_exec_runs_its_command_holding_no_database_connection(
    secret_service: None, database_url: str, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    _signed_in(run_broker, tmp_path)
    assert _local_mints(database_url) == []

    def look(_pid: int) -> None:
        # The mint went through the database, and nothing of the broker's is connected to it.
        mints = _local_mints(database_url)
        assert len(mints) == 1 and mints[0].get("errorCode") is None
        _none_left(database_url)

    _exec_and_look(broker_home, look)


def test_exec_on_the_embedded_database_holds_no_file_of_it_open(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    run_broker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BROKER_DATABASE_URL", raising=False)
    _signed_in(run_broker, tmp_path)

    def look(_pid: int) -> None:
        database = open_database(f"sqlite://{broker_home / 'broker.db'}", pool_size=1)
        try:
            records = list(SqlAuditLog(database).records())
        finally:
            database.close()
        assert [r for r in records if r.get("userAgent") == "broker/local-minter"]

    _exec_and_look(broker_home, look)


def _fetch(exports: dict[str, str]) -> httpx.Response:
    return httpx.get(
        exports["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        headers={"Authorization": exports["AWS_CONTAINER_AUTHORIZATION_TOKEN"]},
        timeout=60,
    )


def test_serve_credentials_mints_after_a_database_restart_and_says_when_it_is_down(
    secret_service: None,
    cluster: PostgresServer,
    database_url: str,
    broker_home: Path,
    tmp_path: Path,
    run_broker,
) -> None:
    _signed_in(run_broker, tmp_path)
    proc, exports = _serve_credentials(ALICE_PROFILE)
    store = CredentialStore(broker_home)
    try:
        first = _fetch(exports)
        assert first.status_code == 200, first.text
        assert len(_local_mints(database_url)) == 1
        _none_left(database_url)  # nothing held between requests

        cluster.stop("fast")
        cluster.start()  # any connection held across this is broken now
        _age(store)  # the next request must mint, through the database
        second = _fetch(exports)
        assert second.status_code == 200, second.text
        assert second.json()["AccessKeyId"] != first.json()["AccessKeyId"]
        assert len(_local_mints(database_url)) == 2
        _none_left(database_url)

        cluster.stop("fast")
        try:
            down = _fetch(exports)  # even a cached credential: its revocation cannot be asked
            assert down.status_code == 503
            message = down.json()["Message"]
            assert len(message.splitlines()) == 1
            assert f":{cluster.port}/" in message and cluster.password not in message
        finally:
            cluster.start()
        back = _fetch(exports)
        assert back.status_code == 200, back.text
        assert back.json()["AccessKeyId"] == second.json()["AccessKeyId"]  # the cached one
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert cluster.password not in err
    assert "cannot serve credentials" in err  # the outage, told once in the log
    for secret in (first.json()["SecretAccessKey"], second.json()["SecretAccessKey"]):
        assert secret not in err


def test_refresh_watch_holds_no_database_connection_while_it_sleeps(
    secret_service: None, database_url: str, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    from datetime import UTC, datetime

    from broker.client.refresher_status import read_status
    from tests.integration.test_refresh_watch_status import _start, _terminate_promptly

    _signed_in(run_broker, tmp_path)
    minted = run_broker("credential-process", "--profile", ALICE_PROFILE)
    assert minted.returncode == 0, minted.stderr
    store = CredentialStore(broker_home)
    _age(store)  # inside the refresh window: the watcher's first round mints

    def first_round_done() -> bool:
        status = read_status(broker_home, datetime.now(UTC)).status
        return status is not None and status.last_round is not None

    proc = _start()
    try:
        wait_until(first_round_done, "the watcher's first round", timeout=60)
        status = read_status(broker_home, datetime.now(UTC)).status
        assert status is not None and status.refreshed == (ALICE_PROFILE,), status
        assert len(_local_mints(database_url)) == 2  # credential-process's, then the round's
        _none_left(database_url)  # asleep until the next round
    finally:
        _took, err = _terminate_promptly(proc)
    assert proc.returncode == 0, err
