"""Two `broker serve` replicas on a PostgreSQL cluster that is stopped, crashed and restarted
under them, and a replica whose clock runs ahead (libfaketime).

What must hold: during an outage every call is answered within 2 s with a retryable
``ServiceUnavailable`` that names no database detail; ``/health`` answers a JSON 503 off the
event loop; the first call after the database is back succeeds; a revocation while the database
is down fails at once saying nothing was revoked; a replica whose clock is off by more than the
bound refuses to serve, and a session minted on a replica that is ahead within the bound is
still refused after a revocation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError

from broker.storage.database import open_database
from tests.conftest import CONFIG
from tests.integration.conftest import BrokerServer, start_server, stop_server
from tests.integration.test_sts_clients import sts
from tests.postgres_peer import PostgresServer, cluster_or_fail, current_database
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ACCOUNT = "111122223333"
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
ANSWER_WITHIN = 2.0
RECOVERY_GRACE = 1.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresServer]:
    """A cluster of this module's own: the tests stop and crash it."""
    yield from cluster_or_fail()


@pytest.fixture
def database_url(cluster: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> str:
    url = current_database(cluster, "f")
    monkeypatch.setenv("BROKER_DATABASE_URL", url)
    return url


def _replica(root: Path, name: str, url: str, **env: str) -> tuple[object, BrokerServer]:
    extra = {"BROKER_DATABASE_URL": url, **env}
    return start_server(root / name, CONFIG, extra_env=extra, healthy=not env)


def _user_key(server: BrokerServer) -> tuple[str, str]:
    created = server.cli("access-keys", "create", "svc-app", "--account", ACCOUNT, "--json")
    assert created.returncode == 0, created.stderr
    shown = json.loads(created.stdout)["AccessKey"]
    return shown["AccessKeyId"], shown["SecretAccessKey"]


def _timed_error(call) -> tuple[float, ClientError]:
    started = time.monotonic()
    with pytest.raises(ClientError) as refused:
        call()
    return time.monotonic() - started, refused.value


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_outage_fails_fast_and_the_first_call_after_it_succeeds(
    cluster: PostgresServer, database_url: str, tmp_path: Path, mode: str
) -> None:
    started = [_replica(tmp_path, "a", database_url), _replica(tmp_path, "b", database_url)]
    try:
        servers = [server for _, server in started]
        key = _user_key(servers[0])
        clients = [sts(server, *key) for server in servers]
        for client in clients:
            client.get_caller_identity()

        cluster.stop(mode)
        try:
            for _round in range(3):
                for client in clients:
                    took, error = _timed_error(client.get_caller_identity)
                    assert took < ANSWER_WITHIN
                    assert error.response["Error"]["Code"] == "ServiceUnavailable"
                    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                    text = str(error.response["Error"])
                    for detail in (str(cluster.port), "postgres", cluster.host):
                        assert detail not in text
            for server in servers:
                began = time.monotonic()
                health = httpx.get(f"{server.url}/health", timeout=5)
                assert time.monotonic() - began < ANSWER_WITHIN
                assert health.status_code == 503
                assert health.json() == {"status": "unavailable", "stateStore": "unavailable"}
                metrics = httpx.get(f"{server.url}/metrics", timeout=5)
                assert metrics.status_code == 200
            revoked = servers[0].cli("sts", "revoke", "--user", "svc-app")
            assert revoked.returncode == 3
            assert "nothing was revoked" in revoked.stderr
            assert cluster.password not in revoked.stderr
        finally:
            cluster.start()

        for client in clients:  # the first call after the database is back
            assert client.get_caller_identity()["Account"] == ACCOUNT
        for server in servers:
            assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    finally:
        for process, _server in started:
            stop_server(process)  # type: ignore[arg-type]


def test_a_ten_second_outage_under_steady_load(
    cluster: PostgresServer, database_url: str, tmp_path: Path
) -> None:
    """Four callers over both replicas while the database is down for 10 s: no answer takes
    more than 2 s, every refusal is a 503 ServiceUnavailable, every answered call's event is
    in the chain, and calls succeed again once it is back."""
    import threading

    from broker.storage.audit_chain import SqlAuditLog

    started = [_replica(tmp_path, "a", database_url), _replica(tmp_path, "b", database_url)]
    try:
        servers = [server for _, server in started]
        key = _user_key(servers[0])
        results: list[tuple[float, float, str, str]] = []  # (start, took, code, request id)
        stop = threading.Event()

        def caller(index: int) -> None:
            client = sts(servers[index % 2], *key)
            while not stop.is_set():
                began = time.monotonic()
                try:
                    answer = client.get_caller_identity()
                    code, rid = "ok", answer["ResponseMetadata"]["RequestId"]
                except ClientError as error:
                    code, rid = error.response["Error"]["Code"], ""
                results.append((began, time.monotonic() - began, code, rid))
                time.sleep(0.05)

        threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()

        def seen(code: str, after: float, count: int) -> Callable[[], bool]:
            return lambda: sum(r[2] == code and r[0] > after for r in list(results)) >= count

        try:
            wait_until(seen("ok", 0.0, 8), "eight answers before the outage")
            down_at = time.monotonic()  # before: the shutdown refuses connections as it begins
            cluster.stop("fast")
            # The outage's length is what is tested, not a wait for something to happen: ten
            # seconds let psycopg_pool's own reconnect back off (1, 2, 4 s) so the test shows
            # the first call after the database is back does not wait for it.
            time.sleep(10)
            cluster.start()
            up_at = time.monotonic()
            wait_until(seen("ok", up_at + RECOVERY_GRACE, 4), "answers again after the outage")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)

        assert max(took for _, took, _, _ in results) < ANSWER_WITHIN
        assert {code for _, _, code, _ in results} <= {"ok", "ServiceUnavailable"}
        refused = [r for r in results if r[2] == "ServiceUnavailable"]
        # Refusals only while the database was away: answered after the stop began, asked
        # before it was back (plus a moment for the first reconnect on a loaded machine).
        outside = [
            (round(began - down_at, 2), round(took, 3))
            for began, took, _, _ in refused
            if began + took < down_at or began > up_at + RECOVERY_GRACE
        ]
        assert refused and outside == []
        assert any(r[2] == "ok" and r[0] > up_at + RECOVERY_GRACE for r in results)
        database = open_database(database_url, pool_size=1)
        try:
            chain = SqlAuditLog(database)
            records = list(chain.records())
            assert chain.verify(expect_at_least=len(records)).ok
        finally:
            database.close()
        recorded = {r.get("requestID") for r in records}
        assert {rid for _, _, code, rid in results if code == "ok"} <= recorded
    finally:
        for process, _server in started:
            stop_server(process)  # type: ignore[arg-type]


def test_health_probe_during_an_outage_does_not_hold_up_other_requests(
    cluster: PostgresServer, database_url: str, tmp_path: Path
) -> None:
    process, server = _replica(tmp_path, "a", database_url)
    try:
        cluster.stop("fast")
        try:
            with httpx.Client(timeout=5) as client:
                for _ in range(5):
                    began = time.monotonic()
                    assert client.get(f"{server.url}/health").status_code == 503
                    assert client.get(f"{server.url}/metrics").status_code == 200
                    assert time.monotonic() - began < ANSWER_WITHIN
            log = (server.home / "serve.log").read_text()
            assert "Traceback" not in log
        finally:
            cluster.start()
    finally:
        stop_server(process)  # type: ignore[arg-type]


@pytest.mark.skipif(not Path(LIBFAKETIME).exists(), reason="libfaketime: run scripts/setup")
def test_a_replica_whose_clock_is_off_refuses_to_serve(database_url: str, tmp_path: Path) -> None:
    normal = _replica(tmp_path, "a", database_url)
    ahead = _replica(tmp_path, "b", database_url, LD_PRELOAD=LIBFAKETIME, FAKETIME="+120s")
    try:
        key = _user_key(normal[1])
        _took, error = _timed_error(sts(ahead[1], *key).get_caller_identity)
        assert error.response["Error"]["Code"] == "ServiceUnavailable"
        health = httpx.get(f"{ahead[1].url}/health", timeout=5)
        assert health.status_code == 503
        assert "clock" in health.json()
        assert sts(normal[1], *key).get_caller_identity()["Account"] == ACCOUNT
    finally:
        for process, _server in (normal, ahead):
            stop_server(process)  # type: ignore[arg-type]


@pytest.mark.skipif(not Path(LIBFAKETIME).exists(), reason="libfaketime: run scripts/setup")
def test_a_session_minted_on_a_replica_ahead_is_refused_after_a_revocation(
    database_url: str, tmp_path: Path
) -> None:
    """The replica runs 3 s ahead (within the bound, so it serves): its sessions carry issue
    times after a cutoff taken on another clock at the same moment. The cutoff comes from the
    database's clock, widened by the bound, so they are covered."""
    normal = _replica(tmp_path, "a", database_url)
    ahead = _replica(tmp_path, "b", database_url, LD_PRELOAD=LIBFAKETIME, FAKETIME="+3s")
    try:
        key = _user_key(normal[1])
        minted = sts(ahead[1], *key).get_session_token()["Credentials"]
        session = (minted["AccessKeyId"], minted["SecretAccessKey"], minted["SessionToken"])
        assert sts(normal[1], *session).get_caller_identity()["Account"] == ACCOUNT

        revoked = normal[1].cli("sts", "revoke", "--user", "svc-app")
        assert revoked.returncode == 0, revoked.stderr
        for server in (normal[1], ahead[1]):
            _took, error = _timed_error(sts(server, *session).get_caller_identity)
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    finally:
        for process, _server in (normal, ahead):
            stop_server(process)  # type: ignore[arg-type]
