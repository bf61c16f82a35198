"""The audit chain as the commands read it: free of secrets, filtered, verified, and a cut or
edited record detected (the chain's own guarantees: tests/integration/test_shared_state.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.audit import EventFilter, cloudtrail_event, select
from broker.errors import AuditError
from broker.storage.audit_chain import SqlAuditLog
from tests.state_support import embedded_state, stored_bytes


def event(name: str = "AssumeRole", user: str = "alice", **extra) -> dict:
    return cloudtrail_event(
        name,
        user_identity={"type": "IAMUser", "userName": user},
        request_id="req-1",
        request_parameters={"roleArn": "arn:aws:iam::111122223333:role/Admin", **extra},
    )


@pytest.fixture
def log(broker_home: Path) -> SqlAuditLog:
    audit = embedded_state(broker_home).shared.audit
    for i in range(5):
        audit.append(event(user=f"user{i}"))
    return audit


def test_no_secret_reaches_the_log(tmp_path: Path) -> None:
    audit = embedded_state(tmp_path).shared.audit
    secrets = ["wJalrXUtnFEMI/K7MDENG", "eyJhbGciOi.token.sig", "PHNhbWw+", "123456"]
    audit.append(
        cloudtrail_event(
            "AssumeRoleWithWebIdentity",
            user_identity={"type": "WebIdentityUser", "sessionToken": secrets[1]},
            request_id="r",
            request_parameters={
                "WebIdentityToken": secrets[1],
                "SAMLAssertion": secrets[2],
                "tokenCode": secrets[3],
            },
            response_elements={
                "credentials": {
                    "accessKeyId": "BRKSAAAAAAAAAAAAAAAA",
                    "secretAccessKey": secrets[0],
                    "sessionToken": secrets[1],
                }
            },
        )
    )
    stored = stored_bytes(tmp_path)
    assert b"BRKSAAAAAAAAAAAAAAAA" in stored
    for secret in secrets:
        assert secret.encode() not in stored


def test_query_filters(log: SqlAuditLog) -> None:
    from datetime import UTC, datetime

    log.append(event("GetCallerIdentity", user="bob"))
    chosen = list(select(log.records(), EventFilter(user="bob")))
    assert [e["eventName"] for e in chosen] == ["GetCallerIdentity"]
    assert len(list(select(log.records(), EventFilter(role="Admin")))) == 6
    assert len(list(select(log.records(), EventFilter(event="AssumeRole")))) == 5
    future = datetime(2100, 1, 1, tzinfo=UTC)
    assert list(select(log.records(), EventFilter(since=future))) == []


def test_audit_commands(run_broker, log: SqlAuditLog, broker_home: Path) -> None:
    ok = run_broker("audit", "verify")
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 5 events")
    tail = run_broker("audit", "tail", "-n", "2")
    users = [json.loads(line)["userIdentity"]["userName"] for line in tail.stdout.splitlines()]
    assert users == ["user3", "user4"]
    query = run_broker("audit", "query", "--user", "user1")
    assert len(query.stdout.splitlines()) == 1
    with embedded_state(broker_home).shared.database.transaction() as cursor:
        cursor.execute("UPDATE audit_events SET record = replace(record, ?, ?)", ("user2", "userX"))
    bad = run_broker("audit", "verify")
    assert bad.returncode == AuditError.exit_code and bad.stdout == ""
    assert "record 4 does not follow" in bad.stderr  # the edited record 3 no longer chains
