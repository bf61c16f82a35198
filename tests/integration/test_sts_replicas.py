"""Two STS replicas on one PostgreSQL database: mint on A, call on B, revoke through B's
command line, refused on A within a second; one audit chain holds both replicas' events.

Each replica is the service a ``broker serve`` worker runs (``service_for`` with the
database URL in its settings), with its own connection pool. Each replica has its own data
directory; signing keys, access keys, revocations, the audit chain, session policies and
replay caches are only in PostgreSQL: the replicas share nothing else.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broker.server.app import WorkerSettings, service_for
from broker.server.query_api import StsService
from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import open_database
from broker.storage.key_set import SqlKeySet
from broker.storage.migrations import upgrade
from broker.storage.replay import SqlReplayCache
from broker.storage.revocations import SqlRevocations
from broker.storage.session_policies import SqlSessionPolicies
from broker.storage.shared_state import open_shared_state
from broker.storage.url import database_url
from broker.sts.key_ring_db import DatabaseKeyRing
from tests.conftest import RunBroker
from tests.unit.server.test_query_api import call, credentials_of

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"


def _replica(home: Path, database_url: str) -> StsService:
    """One replica as ``broker serve`` builds it: its own data directory and pool."""
    home.mkdir(mode=0o700)
    return service_for(WorkerSettings(data_dir=home, database_url=database_url))


def test_serve_uses_the_database_when_a_url_is_set(
    fresh_database: str, broker_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = open_database(fresh_database)
    upgrade(database)
    database.close()
    service = service_for(WorkerSettings(data_dir=broker_home, database_url=fresh_database))
    assert isinstance(service.revocations, SqlRevocations)
    assert isinstance(service.audit, SqlAuditLog)
    assert isinstance(service.session_policies, SqlSessionPolicies)
    assert isinstance(service.saml_replay_cache, SqlReplayCache)
    assert service.ring.active.kid == SqlKeySet(open_database(fresh_database)).keys()[0].kid


def test_mint_on_a_call_on_b_revoke_on_b_refused_on_a(
    fresh_database: str,
    tmp_path: Path,
    run_broker: RunBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = open_database(fresh_database)
    upgrade(database)
    monkeypatch.setenv("BROKER_DATABASE_URL", fresh_database)
    a, b = _replica(tmp_path / "a", fresh_database), _replica(tmp_path / "b", fresh_database)
    assert a.ring.active.kid == b.ring.active.kid  # one key, created by the first to ask
    created = run_broker(
        "access-keys",
        "create",
        "svc-app",
        "--account",
        ACCOUNT,
        "--json",
        env={"BROKER_DATABASE_URL": fresh_database},
    )
    assert created.returncode == 0, created.stderr
    shown = json.loads(created.stdout)["AccessKey"]
    record_id, secret = shown["AccessKeyId"], shown["SecretAccessKey"]

    minted = call(a, record_id, secret, {"Action": "GetSessionToken"})
    assert minted.status == 200, minted.body
    session = credentials_of(minted.body)
    as_session = (session["AccessKeyId"], session["SecretAccessKey"])
    token = session["SessionToken"]
    on_b = call(b, *as_session, {"Action": "GetCallerIdentity"}, token)
    assert on_b.status == 200, on_b.body

    revoked = run_broker(
        "sts", "revoke", "--user", "svc-app", env={"BROKER_DATABASE_URL": fresh_database}
    )
    assert revoked.returncode == 0, revoked.stderr
    done = time.monotonic()
    on_a = call(a, *as_session, {"Action": "GetCallerIdentity"}, token)
    assert time.monotonic() - done < 1.0
    assert on_a.status == 403, on_a.body
    assert "<Code>" in on_a.body

    events = [r["eventName"] for r in SqlAuditLog(database).records()]
    assert events[:3] == ["CreateAccessKey", "GetSessionToken", "GetCallerIdentity"]
    assert "RevokeSessions" in events and events[-1] == "GetCallerIdentity"
    assert SqlAuditLog(database).verify(expect_at_least=len(events)).ok
    for home in (tmp_path / "a", tmp_path / "b"):  # nothing of the replicas' state in files
        assert not (home / "sts").exists() and not (home / "audit").exists()
    database.close()


def test_rotation_on_one_replica_is_seen_by_the_other(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = open_database(fresh_database)
    upgrade(database)
    database.close()
    a, b = (
        DatabaseKeyRing(open_shared_state(database_url(fresh_database)).keys, refresh=0)
        for _ in range(2)
    )
    first = a.current().active.kid
    assert b.current().active.kid == first
    assert a.current().user_key_secret == b.current().user_key_secret
    a.rotate()
    rotated = b.current()
    assert rotated.active.kid != first
    assert rotated.verifying(first, datetime.now(UTC)) is not None  # old tokens still verify
