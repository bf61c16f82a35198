"""Service users' virtual MFA devices in the embedded database (PostgreSQL: tests/integration)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broker.storage.database import Database, open_database
from broker.storage.migrations import applied, upgrade
from broker.storage.sts_mfa_devices import SqlStsMfaDevices

SERIAL = "arn:aws:iam::111122223333:mfa/svc-app"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'broker.db'}"


@pytest.fixture
def database(url: str) -> Database:
    opened = open_database(url)
    upgrade(opened)
    yield opened
    opened.close()


def test_devices_are_added_once_and_read_back(database: Database) -> None:
    store = SqlStsMfaDevices(database, clock=lambda: WHEN)
    assert store.add(SERIAL, "svc-app", "111122223333", "ab" * 16)
    assert not store.add(SERIAL, "mallory", "111122223333", "cd" * 16)  # no takeover
    device = store.get(SERIAL)
    assert device is not None
    assert (device.user, device.account) == ("svc-app", "111122223333")
    assert device.seed_nonce == "ab" * 16
    assert device.created == WHEN and device.last_step is None
    assert [d.serial for d in store.for_user("svc-app")] == [SERIAL]
    assert store.for_user("mallory") == [] and store.get("arn:aws:iam::1:mfa/x") is None


def test_add_many_counts_only_new_devices(database: Database) -> None:
    store = SqlStsMfaDevices(database)
    store.add(SERIAL, "svc-app", "111122223333", "")
    other = "arn:aws:iam::111122223333:mfa/svc-batch"
    rows = [(SERIAL, "svc-app", "111122223333", ""), (other, "svc-batch", "111122223333", "")]
    assert store.add_many(rows) == 1
    assert store.add_many(rows) == 0


def test_steps_only_move_forward(database: Database) -> None:
    store = SqlStsMfaDevices(database)
    store.add(SERIAL, "svc-app", "111122223333", "")
    assert store.accept_step(SERIAL, 100)
    assert not store.accept_step(SERIAL, 100)
    assert not store.accept_step(SERIAL, 99)
    assert store.accept_step(SERIAL, 101)
    assert store.get(SERIAL).last_step == 101  # type: ignore[union-attr]
    assert not store.accept_step("arn:aws:iam::111122223333:mfa/nobody", 5)


def test_removed_device_is_gone_and_can_be_enabled_again(database: Database) -> None:
    store = SqlStsMfaDevices(database)
    store.add(SERIAL, "svc-app", "111122223333", "11" * 16)
    store.accept_step(SERIAL, 7)
    assert store.remove(SERIAL) and not store.remove(SERIAL)
    assert store.get(SERIAL) is None
    assert store.add(SERIAL, "svc-app", "111122223333", "22" * 16)
    assert store.get(SERIAL).last_step is None  # type: ignore[union-attr]


def test_two_connections_racing_for_one_step_accept_it_once(url: str, database: Database) -> None:
    SqlStsMfaDevices(database).add(SERIAL, "svc-app", "111122223333", "")
    others = [open_database(url) for _ in range(4)]
    results: list[bool] = []
    barrier = threading.Barrier(len(others))

    def race(db: Database) -> None:
        barrier.wait(timeout=10)
        results.append(SqlStsMfaDevices(db).accept_step(SERIAL, 42))

    threads = [threading.Thread(target=race, args=(db,)) for db in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for db in others:
        db.close()
    assert sorted(results) == [False, False, False, True]


def test_migration_0005_applies_on_an_existing_0004_database(url: str) -> None:
    database = open_database(url)
    try:
        assert [m.version for m in upgrade(database, through=4)] == [1, 2, 3, 4]
        with database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO replay_cache (namespace, value, expires_us) VALUES ('n', 'v', 1)"
            )
        assert [m.name for m in upgrade(database, through=5)] == ["sts_mfa_devices"]
        assert set(applied(database)) == {1, 2, 3, 4, 5}
        assert SqlStsMfaDevices(database).add(SERIAL, "svc-app", "111122223333", "")
        with database.transaction(read_only=True) as cursor:
            cursor.execute("SELECT value FROM replay_cache")
            assert cursor.fetchall() == [("v",)]  # earlier data kept
    finally:
        database.close()
