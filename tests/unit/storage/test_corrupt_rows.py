"""Store readers that no front end reaches with a plain command, on a real embedded database:
a row changed outside the broker is the one clear ``ConfigError`` naming the database, the
table and the column, never a bare ``ValueError`` and never the row's value
(tests/integration/test_corrupt_state_rows.py drives the rest through the CLI and serve)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.storage.database import Database, open_database
from broker.storage.directory_runtime import SqlDirectoryRuntime
from broker.storage.migrations import upgrade
from broker.storage.revocations import SqlRevocations

PLANTED = "planted-row-content-0123456789"


@dataclass(frozen=True)
class _Rule:
    kind: str
    value: str
    before: datetime


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    opened = open_database(f"sqlite://{tmp_path / 'broker.db'}")
    upgrade(opened)
    yield opened
    opened.close()


def _set(database: Database, statement: str) -> None:
    with database.transaction() as cursor:
        cursor.execute("PRAGMA ignore_check_constraints = ON")
        cursor.execute(statement, (PLANTED,))
        assert cursor.rowcount == 1


def _refusal(read: object, database: Database, table: str, column: str) -> None:
    with pytest.raises(ConfigError) as refused:
        read()  # type: ignore[operator]
    message = str(refused.value)
    assert message.startswith(f"the state database {database.where} holds a row of {table}")
    assert f"whose {column} is not as the broker writes it" in message
    assert PLANTED not in message and "\n" not in message


@pytest.mark.parametrize(("column", "kind"), [("before_us", "user"), ("kind", "role")])
def test_a_revocation_row_that_does_not_read_back_is_refused(
    database: Database, column: str, kind: str
) -> None:
    revocations = SqlRevocations(database)
    revocations.add(_Rule(kind, "alice", datetime(2026, 1, 2, tzinfo=UTC)))  # type: ignore[arg-type]
    assert [rule.value for rule in revocations.rules()] == ["alice"]
    _set(database, f"UPDATE revocations SET {column} = ?")
    _refusal(revocations.rules, database, "revocations", column)


def test_a_directory_mfa_step_that_is_not_a_number_is_refused(database: Database) -> None:
    runtime = SqlDirectoryRuntime(database)
    runtime.add_mfa_device("alice", "phone")
    assert runtime.set_mfa_last_step("alice", "phone", 7)
    assert runtime.mfa_last_step("alice", "phone") == 7
    _set(database, "UPDATE mfa_devices SET last_step = ?")
    _refusal(lambda: runtime.mfa_last_step("alice", "phone"), database, "mfa_devices", "last_step")


def test_the_database_is_named_by_its_path(database: Database, tmp_path: Path) -> None:
    assert database.where == str(tmp_path / "broker.db")
