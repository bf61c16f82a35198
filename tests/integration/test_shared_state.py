"""The shared-state stores on both backends: SQLite (embedded) and a real PostgreSQL server.

Two ``Database`` objects on one database stand for two replicas: each has its own connections
(its own pool on PostgreSQL), sharing nothing but the database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.errors import AuditError, ConfigError, StsError
from broker.storage.access_key_records import AccessKeyRecord, SqlAccessKeyRecords
from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import Database, open_database
from broker.storage.directory_runtime import SqlDirectoryRuntime
from broker.storage.key_set import SqlKeySet
from broker.storage.migrations import applied, known_migrations, require_current, upgrade
from broker.storage.replay import SqlReplayCache
from broker.storage.revocations import RevocationRule, SqlRevocations
from broker.storage.session_policies import SqlSessionPolicies
from broker.storage.shared_state import open_shared_state
from broker.storage.url import database_url
from tests.conftest import REPO
from tests.processes import stop

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)
"""A fixed instant for stores that take it as data; never for expiries checked against the real
clock (the suite may reach a test many minutes after import)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'state' / 'broker.db'}"
    found: str = request.getfixturevalue("fresh_database")
    return found


@pytest.fixture
def replicas(url: str) -> Iterator[tuple[Database, Database]]:
    first = open_database(url, pool_size=4)
    upgrade(first)
    second = open_database(url, pool_size=4)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_migrations_apply_once_and_refuse_a_newer_schema(url: str) -> None:
    database = open_database(url)
    try:
        with pytest.raises(ConfigError, match="db upgrade"):
            require_current(database)
        assert [m.version for m in upgrade(database)] == [m.version for m in known_migrations()]
        assert upgrade(database) == []
        require_current(database)
        assert set(applied(database)) == {m.version for m in known_migrations()}
        with database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO schema_migrations (version, name, applied_us) VALUES (9999, 'x', 0)"
            )
        with pytest.raises(ConfigError, match="newer"):
            upgrade(database)
    finally:
        database.close()


def test_two_replicas_upgrading_together_apply_each_migration_once(url: str) -> None:
    databases = [open_database(url) for _ in range(2)]
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda d=d: results.append(len(upgrade(d)))) for d in databases
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [0, len(known_migrations())]
    for database in databases:
        database.close()


def test_replay_refused_on_the_other_replica(replicas: tuple[Database, Database]) -> None:
    now = datetime.now(UTC)  # the caches compare expiry with the real clock, not import time
    a, b = (SqlReplayCache(d) for d in replicas)
    expires = now + timedelta(minutes=5)
    assert a.add_once("saml-assertion", "_id-1", expires)
    assert not b.add_once("saml-assertion", "_id-1", expires)
    assert b.add_once("refresh-token", "_id-1", expires)  # namespaces are separate
    later = SqlReplayCache(replicas[1], clock=lambda: now + timedelta(minutes=6))
    assert later.add_once("saml-assertion", "_id-1", now + timedelta(minutes=11))


def test_racing_replays_only_one_wins(replicas: tuple[Database, Database]) -> None:
    caches = [SqlReplayCache(d) for d in replicas]
    expires = datetime.now(UTC) + timedelta(minutes=5)
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def race(cache: SqlReplayCache) -> None:
        barrier.wait(timeout=10)
        wins.append(cache.add_once("saml-assertion", "_race", expires))

    threads = [threading.Thread(target=race, args=(caches[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(wins) == [False] * 7 + [True]


def test_revocation_on_b_binds_a_at_once(replicas: tuple[Database, Database]) -> None:
    a, b = (SqlRevocations(d) for d in replicas)
    role = "arn:aws:iam::111122223333:role/Admin"
    issued = NOW - timedelta(minutes=10)
    session = {"session_id": "s-1", "role_arn": role, "user": "alice@example.com"}
    assert not a.is_revoked_session(**session, issued_at=issued)
    b.add(RevocationRule("role", role, NOW))
    assert a.is_revoked_session(**session, issued_at=issued)
    assert not a.is_revoked_session(**session, issued_at=NOW + timedelta(seconds=1))  # issued after
    b.add(RevocationRule("session", "s-2", NOW))
    assert a.is_revoked_session(session_id="s-2", role_arn=None, user=None, issued_at=NOW)
    b.add(RevocationRule("user", "bob@example.com", NOW))
    assert a.is_revoked_session(
        session_id="s-3", role_arn=None, user="bob@example.com", issued_at=issued
    )
    assert [rule.kind for rule in a.rules()] == ["role", "session", "user"]


def test_one_active_key_when_replicas_start_together(replicas: tuple[Database, Database]) -> None:
    sets = [SqlKeySet(d) for d in replicas]
    created: list[bool] = []
    threads = [
        threading.Thread(
            target=lambda i=i: created.append(
                sets[i % 2].rotate(f"kid-{i}", f'{{"k": {i}}}', only_if_none=True)
            )
        )
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert created.count(True) == 1
    sets[0].rotate("kid-next", "{}")
    keys = sets[1].keys()
    assert [k.retired is None for k in keys] == [False, True]
    assert sets[1].prune(datetime.now(UTC) + timedelta(seconds=1)) == 1


def test_audit_chain_one_chain_under_concurrent_writers(
    replicas: tuple[Database, Database],
) -> None:
    logs = [SqlAuditLog(d) for d in replicas]

    def write(log: SqlAuditLog, tag: str) -> None:
        for i in range(25):
            log.append({"eventName": "AssumeRole", "eventID": f"{tag}-{i}"})

    threads = [threading.Thread(target=write, args=(logs[i % 2], f"w{i}")) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    check = logs[1].verify(expect_at_least=100)
    assert check.ok and check.events == 100, check
    assert len({r["eventID"] for r in logs[0].records()}) == 100


def _chain_of(database: Database, count: int) -> SqlAuditLog:
    log = SqlAuditLog(database)
    for i in range(count):
        log.append({"eventName": "AssumeRole", "eventID": f"e-{i}"})
    return log


def test_audit_chain_detects_tampering(replicas: tuple[Database, Database]) -> None:
    log = _chain_of(replicas[0], 3)
    assert log.verify(expect_at_least=3).ok
    assert not log.verify(expect_at_least=4).ok  # truncation noticed against a kept count
    with replicas[1].transaction() as cursor:
        cursor.execute("SELECT record FROM audit_events WHERE sequence = 2")
        (text,) = cursor.fetchone() or ("",)
        cursor.execute(
            "UPDATE audit_events SET record = ? WHERE sequence = 2",
            (text.replace('"AssumeRole"', '"GetCallerIdentity"'),),
        )
    check = log.verify()
    assert not check.ok and check.problem == "record 3 does not follow its predecessor"


def test_audit_chain_detects_a_cut_end_against_its_head(
    replicas: tuple[Database, Database],
) -> None:
    log = _chain_of(replicas[0], 4)
    with replicas[1].transaction() as cursor:
        cursor.execute("DELETE FROM audit_events WHERE sequence > 2")
    check = log.verify()
    assert not check.ok and check.problem == "records 3-4 missing at the end (the head records 4)"


def test_audit_head_migration_takes_the_chain_end_of_an_existing_chain(
    replicas: tuple[Database, Database],
) -> None:
    log = _chain_of(replicas[0], 3)
    with replicas[1].transaction() as cursor:
        cursor.execute("DROP TABLE audit_head")
        cursor.execute("DELETE FROM schema_migrations WHERE version = 4")
    assert [m.name for m in upgrade(replicas[1])] == ["audit_head"]
    assert log.append({"eventName": "AssumeRole", "eventID": "e-3"})["eventSequence"] == 4
    with replicas[1].transaction() as cursor:
        cursor.execute("DELETE FROM audit_events WHERE sequence = 4")
    assert log.verify().problem == "record 4 missing at the end (the head records 4)"


def _writer(url: str, count: int, tag: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.storage_writer", url, str(count), tag],
        stdout=subprocess.PIPE,
        env=env,
        cwd=REPO,
    )


def test_kill_9_mid_load_loses_no_answered_event(
    replicas: tuple[Database, Database], url: str
) -> None:
    victim = _writer(url, 100_000, "victim")
    survivor = _writer(url, 150, "survivor")
    answered: list[str] = []
    assert victim.stdout is not None and survivor.stdout is not None
    deadline = time.monotonic() + 60
    while len(answered) < 40 and time.monotonic() < deadline:
        line = victim.stdout.readline()
        if not line:
            break
        answered.append(line.decode().strip())
    victim.kill()  # SIGKILL: no cleanup, mid-transaction
    answered += [line.decode().strip() for line in victim.stdout]
    survivor_out, _ = survivor.communicate(timeout=120)
    stop(victim)
    victim.stdout.close()
    answered += survivor_out.decode().split()
    assert len(answered) >= 40 + 150
    log = SqlAuditLog(replicas[1])
    stored = {r["eventID"] for r in log.records()}
    assert set(answered) <= stored
    assert log.verify(expect_at_least=len(stored)).ok


def test_totp_step_used_on_one_replica_is_refused_on_the_other(
    replicas: tuple[Database, Database],
) -> None:
    a, b = (SqlDirectoryRuntime(d) for d in replicas)
    a.add_mfa_device("alice", "phone")
    assert b.mfa_devices("alice") == ["phone"]
    assert a.set_mfa_last_step("alice", "phone", 1000)
    assert not b.set_mfa_last_step("alice", "phone", 1000)
    assert not b.set_mfa_last_step("alice", "phone", 999)  # an older step too
    assert b.set_mfa_last_step("alice", "phone", 1001)
    assert a.mfa_last_step("alice", "phone") == 1001
    assert not a.set_mfa_last_step("alice", "tablet", 5)  # no such device
    b.remove_mfa_device("alice", "phone")
    assert a.mfa_devices("alice") == []
    assert a.record_jit_user("corp", "00u-carol", "carol", "carol@example.com")
    assert not b.record_jit_user("corp", "00u-carol", "carol", "carol@example.com")


def test_two_keys_per_user_even_when_replicas_race(replicas: tuple[Database, Database]) -> None:
    stores = [SqlAccessKeyRecords(d) for d in replicas]
    refused: list[str] = []

    def create(i: int) -> None:
        record = AccessKeyRecord(f"BRKU{i:016d}", "ci-deployer", "111122223333", "Active", NOW)
        try:
            stores[i % 2].create(record)
        except StsError as exc:
            refused.append(exc.code or "")

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert refused == ["LimitExceeded"] * 4
    keys = stores[1].for_user("ci-deployer")
    assert len(keys) == 2
    assert stores[0].set_status(keys[0].access_key_id, "Inactive")
    assert stores[1].get(keys[0].access_key_id) == AccessKeyRecord(
        keys[0].access_key_id, "ci-deployer", "111122223333", "Inactive", NOW
    )
    assert stores[1].delete(keys[0].access_key_id)
    assert stores[0].get(keys[0].access_key_id) is None
    # the same name in another account is another user, with two keys of its own
    stores[1].create(
        AccessKeyRecord("BRKU9" + "0" * 15, "ci-deployer", "444455556666", "Active", NOW)
    )


@dataclass(frozen=True)
class _Claims:
    session_id: str
    role_arn: str | None
    user: str | None
    issued_at: datetime


def test_revocation_list_interface_takes_session_claims(
    replicas: tuple[Database, Database],
) -> None:
    a, b = (SqlRevocations(d) for d in replicas)
    claims = _Claims("s-9", "arn:aws:iam::111122223333:role/R", "alice", NOW - timedelta(hours=1))
    assert not a.is_revoked(claims)
    b.add(RevocationRule("user", "alice", NOW))
    assert a.is_revoked(claims)


def test_world_readable_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state" / "broker.db"
    database = open_database(f"sqlite://{path}")
    upgrade(database)
    database.close()
    path.chmod(0o644)
    reopened = open_database(f"sqlite://{path}")
    with pytest.raises(ConfigError, match="readable by other users"):
        upgrade(reopened)


def test_shared_state_opens_every_store_on_a_current_schema(url: str) -> None:
    chosen = database_url(url)
    if chosen.dialect == "postgresql":  # shared by replicas: `broker db upgrade` first
        with pytest.raises(ConfigError, match="db upgrade"):
            open_shared_state(chosen)
        database = open_database(url)
        upgrade(database)
        database.close()
    state = open_shared_state(chosen)  # the embedded SQLite is brought up to date on open
    try:
        expires = datetime.now(UTC) + timedelta(minutes=1)
        assert state.replay.add_once("saml-assertion", "_x", expires)
        assert state.audit.append({"eventName": "AssumeRole"})["eventSequence"] == 1
        assert state.directory_runtime.mfa_devices("alice") == []
    finally:
        state.close()


def test_session_policy_stored_by_one_replica_is_found_by_the_other(
    replicas: tuple[Database, Database],
) -> None:
    a, b = (SqlSessionPolicies(d) for d in replicas)
    text = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    )
    digest = a.put(text)
    assert a.put(text) == digest
    assert b.get(digest) == text
    with pytest.raises(StsError, match="unknown"):
        b.get("0" * 64)
    with pytest.raises(StsError, match="malformed"):
        b.get("../etc/passwd")
    with replicas[0].transaction() as cursor:
        cursor.execute(
            "UPDATE session_policies SET document = ? WHERE digest = ?",
            (text.replace("s3:*", "*"), digest),
        )
    with pytest.raises(StsError, match="altered") as caught:
        b.get(digest)
    assert caught.value.code == "AccessDenied"


def test_audit_fails_closed_when_the_database_is_gone(fresh_database: str) -> None:
    database = open_database(fresh_database)
    upgrade(database)
    log = SqlAuditLog(database)
    log.append({"eventName": "AssumeRole"})
    database.close()  # the pool is gone, as after losing the server
    with pytest.raises(AuditError, match="cannot be written"):
        log.append({"eventName": "AssumeRole"})


def test_ring_secret_created_once_when_replicas_start_together(
    replicas: tuple[Database, Database],
) -> None:
    sets = [SqlKeySet(d) for d in replicas]
    seen: list[str] = []
    barrier = threading.Barrier(6)

    def ask(i: int) -> None:
        barrier.wait(timeout=10)
        seen.append(sets[i % 2].secret("user_key_secret", lambda i=i: f"secret-{i}"))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(seen) == 6 and len(set(seen)) == 1
