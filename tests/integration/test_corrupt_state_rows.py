"""A row of the state database changed outside the broker (a JSON column that is not JSON, a
number column holding text, a status outside its set) is refused with the project's errors:
through the real CLI, one line naming the database and the table, saying what to do, exit 3;
through the Query API (boto3 against ``broker serve``), ``InternalFailure`` with the cause in
the operator's log. Never the row's content: the planted value stands for a secret."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conftest import RunBroker
from tests.integration.conftest import BrokerServer, start_server, stop_server
from tests.integration.test_serve_hardening import sts
from tests.postgres_peer import PostgresServer

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
USER = "svc-deploy"
PLANTED = "planted-row-content-0123456789"
"""Written into the corrupted column; no message, answer or log may repeat it."""


def _corrupt(database: Path, statement: str, value: str) -> None:
    """Change a row as another program or a damaged file could (past CHECK constraints)."""
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("PRAGMA ignore_check_constraints = ON")
        changed = connection.execute(statement, (value,)).rowcount
        connection.commit()
    assert changed >= 1, statement


def _refused_in_one_line(
    result: subprocess.CompletedProcess[str],
    database: Path,
    table: str,
    home: Path,
    exit_code: int = 3,
) -> str:
    assert result.returncode == exit_code, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert PLANTED not in line and "Traceback" not in line
    for log in home.rglob("*.log"):
        assert PLANTED not in log.read_text(errors="replace")
    if exit_code == 3:
        assert f"the state database {database} holds a row of {table}" in line, line
        assert "restore the database from a backup or delete that row" in line
    return line


@pytest.fixture
def home(broker_home: Path, run_broker: RunBroker) -> Path:
    """A data directory whose state holds a key ring, an access key, an STS MFA device and
    audit events, all written through the CLI."""
    created = run_broker("access-keys", "create", USER, "--account", ACCOUNT)
    assert created.returncode == 0, created.stderr
    enabled = run_broker("access-keys", "mfa-enable", USER, "--account", ACCOUNT)
    assert enabled.returncode == 0, enabled.stderr
    for command in (("access-keys", "list"), ("keys", "list"), ("audit", "query")):
        assert run_broker(*command).returncode == 0  # all readable before the damage
    return broker_home


CORRUPTIONS = {  # case -> (table, statement, planted value, command that reads the row)
    "access-key-time-is-text": (
        "access_keys",
        "UPDATE access_keys SET created_us = ?",
        PLANTED,
        ("access-keys", "list"),
    ),
    "access-key-status-unknown": (
        "access_keys",
        "UPDATE access_keys SET status = ?",
        PLANTED,
        ("access-keys", "list", USER),
    ),
    "mfa-step-is-text": (
        "sts_mfa_devices",
        "UPDATE sts_mfa_devices SET last_step = ?",
        PLANTED,
        ("access-keys", "mfa-list", USER),
    ),
    "signing-key-material-incomplete": (
        "signing_keys",
        "UPDATE signing_keys SET material = ?",
        json.dumps({"private_pem": PLANTED}),
        ("keys", "list"),
    ),
    "signing-key-pem-damaged": (
        "signing_keys",
        "UPDATE signing_keys SET material = json_set(material, '$.private_pem', ?)",
        PLANTED,
        ("keys", "list"),
    ),
    "signing-key-time-is-text": (
        "signing_keys",
        "UPDATE signing_keys SET created_us = ?",
        PLANTED,
        ("keys", "list"),
    ),
    "ring-secret-not-base64": (
        "key_ring_secrets",
        "UPDATE key_ring_secrets SET material = ?",
        PLANTED,
        ("keys", "list"),
    ),
    "audit-record-not-json": (
        "audit_events",
        "UPDATE audit_events SET record = ? WHERE sequence = 1",
        '{"secret": "' + PLANTED,
        ("audit", "query"),
    ),
    "audit-record-not-an-object": (
        "audit_events",
        "UPDATE audit_events SET record = ? WHERE sequence = 1",
        json.dumps([PLANTED]),
        ("audit", "query"),
    ),
}


@pytest.mark.parametrize("case", CORRUPTIONS)
def test_the_cli_names_the_database_and_table_in_one_line(
    case: str, home: Path, run_broker: RunBroker
) -> None:
    table, statement, value, command = CORRUPTIONS[case]
    database = home / "broker.db"
    _corrupt(database, statement, value)
    _refused_in_one_line(run_broker(*command), database, table, home)


def test_audit_verify_reports_an_unreadable_record_as_a_break(
    home: Path, run_broker: RunBroker
) -> None:
    _corrupt(
        home / "broker.db",
        "UPDATE audit_events SET record = ? WHERE sequence = 1",
        '{"secret": "' + PLANTED,
    )
    line = _refused_in_one_line(
        run_broker("audit", "verify"), home / "broker.db", "audit_events", home, exit_code=9
    )
    assert line.endswith("the database audit chain is broken: record 1 is not a JSON object")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[BrokerServer]:
    process, running = start_server(tmp_path / "serve-home")
    try:
        yield running
    finally:
        stop_server(process)


def _internal_failure(call: Callable[..., object], **parameters: str) -> None:
    with pytest.raises(ClientError) as refused:
        call(**parameters)
    error = refused.value.response
    assert error["Error"]["Code"] == "InternalFailure", error
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert PLANTED not in json.dumps(error, default=str)


def test_the_query_api_answers_internal_failure_and_logs_the_cause(
    server: BrokerServer,
) -> None:
    created = server.cli("access-keys", "create", USER, "--account", ACCOUNT, "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["AccessKey"]
    enabled = server.cli("access-keys", "mfa-enable", USER, "--account", ACCOUNT)
    assert enabled.returncode == 0, enabled.stderr
    serial = enabled.stdout.split("\t")[0]
    client = sts(server, key)
    assert client.get_caller_identity()["Arn"].endswith(f":user/{USER}")
    database = server.home / "broker.db"

    _corrupt(database, "UPDATE sts_mfa_devices SET last_step = ?", PLANTED)
    _internal_failure(
        client.get_session_token,
        SerialNumber=serial,
        TokenCode="123456",
    )
    _corrupt(database, "UPDATE access_keys SET status = ?", PLANTED)
    # A row changed by another program is read again once anything writes through the broker
    # (the workers keep access keys while the state's change counter stands still).
    other = server.cli("access-keys", "create", "svc-other", "--account", ACCOUNT, "--json")
    assert other.returncode == 0, other.stderr
    _internal_failure(client.get_caller_identity)

    log = (server.home / "serve.log").read_text(errors="replace")
    for table in ("sts_mfa_devices", "access_keys"):
        assert f"the state database {database} holds a row of {table}" in log
    assert PLANTED not in log and "Traceback" not in log


def test_on_postgresql_the_line_names_the_url_without_its_password(
    run_broker: RunBroker,
    broker_home: Path,
    fresh_database: str,
    postgres_server: PostgresServer,
) -> None:
    import psycopg

    from broker.storage.url import redacted

    env = {"BROKER_DATABASE_URL": fresh_database}
    assert run_broker("db", "upgrade", env=env).returncode == 0
    enabled = run_broker("access-keys", "mfa-enable", USER, "--account", ACCOUNT, env=env)
    assert enabled.returncode == 0, enabled.stderr  # audited: the chain's first record
    with psycopg.connect(fresh_database, autocommit=True) as connection:
        changed = connection.execute(
            "UPDATE audit_events SET record = %s WHERE sequence = 1", ('{"secret": "' + PLANTED,)
        ).rowcount
    assert changed == 1
    refused = run_broker("audit", "query", env=env)
    assert refused.returncode == 3 and refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    assert f"the state database {redacted(fresh_database)} holds a row of audit_events" in line
    assert postgres_server.password not in line and PLANTED not in line
