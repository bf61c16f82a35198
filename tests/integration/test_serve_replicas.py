"""Two `broker serve` processes on one PostgreSQL database, driven over HTTP by boto3.

Each replica is a real process with its own data directory; they share only
``BROKER_DATABASE_URL``. Mint on A, call on B, revoke through B's command line, refused on A
within a second; a SAML assertion accepted by A is refused by B; kill -9 one replica in the
middle of a bounded load and find every answered call's RequestId in the database chain, which
still verifies (also through `broker audit`).
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import open_database
from broker.storage.migrations import upgrade
from tests.conftest import CONFIG
from tests.integration.conftest import BrokerServer, start_server, stop_server
from tests.integration.saml_peer import RunningIdP
from tests.integration.test_saml_serve import (
    assume,
    refused,
    response_of,
    saml_config,
    saml_idp,  # noqa: F401 - the IdP peer fixture, started once for this module
)
from tests.integration.test_sts_clients import sts
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
LOAD_SECONDS = 4.0
MAX_CALLS = 400


Replicas = tuple[tuple[subprocess.Popen[bytes], BrokerServer], ...]


@contextmanager
def _two_replicas(url: str, root: Path, config: Path = CONFIG) -> Iterator[Replicas]:
    """Replicas A and B of ``config`` on ``url`` (upgraded here), each with its own home."""
    database = open_database(url, pool_size=1)
    upgrade(database)
    database.close()
    started = []
    try:
        for name in ("a", "b"):
            started.append(start_server(root / name, config))
        yield tuple(started)
    finally:
        for process, _server in started:
            stop_server(process)


@pytest.fixture
def replicas(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Replicas]:
    monkeypatch.setenv("BROKER_DATABASE_URL", fresh_database)
    with _two_replicas(fresh_database, tmp_path) as started:
        yield started


def _user_key(server: BrokerServer) -> tuple[str, str]:
    created = server.cli("access-keys", "create", "svc-app", "--account", ACCOUNT, "--json")
    assert created.returncode == 0, created.stderr
    shown = json.loads(created.stdout)["AccessKey"]
    return shown["AccessKeyId"], shown["SecretAccessKey"]


def _chain(url: str) -> tuple[list[dict[str, object]], bool]:
    database = open_database(url, pool_size=1)
    try:
        chain = SqlAuditLog(database)
        records = list(chain.records())
        return records, chain.verify(expect_at_least=len(records)).ok
    finally:
        database.close()


def test_mint_on_a_call_on_b_revoke_on_b_refused_on_a(
    replicas: Replicas, fresh_database: str
) -> None:
    (_, a), (_, b) = replicas
    key = _user_key(b)
    minted = sts(a, *key).get_session_token()
    session = minted["Credentials"]
    as_session = (session["AccessKeyId"], session["SecretAccessKey"], session["SessionToken"])
    who = sts(b, *as_session).get_caller_identity()
    assert who["Account"] == ACCOUNT and who["Arn"].endswith(":user/svc-app")

    revoked = b.cli("sts", "revoke", "--user", "svc-app")
    assert revoked.returncode == 0, revoked.stderr
    done = time.monotonic()
    with pytest.raises(ClientError) as refused:
        sts(a, *as_session).get_caller_identity()
    assert time.monotonic() - done < 1.0
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    records, intact = _chain(fresh_database)
    ids = {r.get("requestID") for r in records}
    assert minted["ResponseMetadata"]["RequestId"] in ids
    assert who["ResponseMetadata"]["RequestId"] in ids
    assert intact
    for server in (a, b):  # the database key ring only: no signing-key file, no audit file
        assert not (server.home / "sts" / "signing-keys.json").exists()
        assert not (server.home / "audit").exists()

    verified = a.cli("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert f"ok: {len(records)} events in the database chain" in verified.stdout
    queried = b.cli("audit", "query", "--event", "GetCallerIdentity")
    assert queried.returncode == 0, queried.stderr
    shown = [json.loads(line) for line in queried.stdout.splitlines()]
    assert who["ResponseMetadata"]["RequestId"] in {e["requestID"] for e in shown}
    assert {e["eventName"] for e in shown} == {"GetCallerIdentity"}


def test_kill_9_mid_load_loses_no_answered_event(replicas: Replicas, fresh_database: str) -> None:
    (process_a, a), (_, b) = replicas
    key = _user_key(a)
    clients = [sts(a, *key), sts(b, *key)]
    answered: list[str] = []
    failures: list[str] = []
    deadline = time.monotonic() + LOAD_SECONDS
    started = threading.Event()

    def load(client: Any) -> None:
        for _ in range(MAX_CALLS // 2):
            if time.monotonic() > deadline:
                return
            try:
                reply = client.get_caller_identity()
            except (BotoCoreError, ClientError) as exc:  # A is gone: not answered
                failures.append(type(exc).__name__)
                continue
            answered.append(reply["ResponseMetadata"]["RequestId"])
            started.set()

    threads = [threading.Thread(target=load, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    assert started.wait(timeout=10)
    wait_until(lambda: len(answered) >= 10, "ten answers before the kill (the load is on)")
    process_a.send_signal(signal.SIGKILL)
    process_a.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=LOAD_SECONDS + 20)
    assert not any(t.is_alive() for t in threads)

    assert failures, "A was killed mid-load, yet every call to it was answered"
    records, intact = _chain(fresh_database)
    assert intact
    in_chain = {r.get("requestID") for r in records}
    missing = [rid for rid in answered if rid not in in_chain]
    assert not missing, f"{len(missing)} answered calls have no audit event"
    assert len(answered) > 10
    after = sts(b, *key).get_caller_identity()
    assert after["ResponseMetadata"]["RequestId"] in {
        r.get("requestID") for r in _chain(fresh_database)[0]
    }


def test_saml_assertion_accepted_by_a_is_refused_by_b(
    fresh_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    saml_idp: RunningIdP,  # noqa: F811
) -> None:
    monkeypatch.setenv("BROKER_DATABASE_URL", fresh_database)
    config = saml_config(tmp_path, saml_idp)
    with _two_replicas(fresh_database, tmp_path, config) as ((_, a), (_, b)):
        assertion = response_of(saml_idp)
        accepted = assume(a, assertion)
        assert accepted["Subject"] == "alice@example.com"
        assert refused(b, assertion) == "InvalidIdentityToken"
        assert refused(a, assertion) == "InvalidIdentityToken"
        fresh = assume(b, response_of(saml_idp))  # B itself accepts a new assertion
        assert fresh["AssumedRoleUser"]["Arn"].endswith(":assumed-role/Dev/alice")
    records, intact = _chain(fresh_database)
    assert intact
    assert accepted["ResponseMetadata"]["RequestId"] in {r.get("requestID") for r in records}
