"""The other admin writes to the state, as real processes on the embedded SQLite: `broker
access-keys create|deactivate|delete` and `broker keys rotate` are in the audit chain before
they take effect (named, who ran them, never the secret), and with an audit that cannot be
written each is refused in one line with nothing changed."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
from pathlib import Path

import pytest

from tests.conftest import RunBroker, one_line
from tests.state_support import break_audit_chain

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
USER = "svc-deploy"
AUDIT_ERROR = 9  # broker.errors.AuditError.exit_code


def _ok(run_broker: RunBroker, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_broker(*args)
    assert result.returncode == 0, result.stderr
    return result


def _create(run_broker: RunBroker) -> dict[str, str]:
    out = _ok(run_broker, "access-keys", "create", USER, "--account", ACCOUNT, "--json").stdout
    shown: dict[str, str] = json.loads(out)["AccessKey"]
    return shown


def _keys(run_broker: RunBroker) -> list[dict[str, str]]:
    out = _ok(run_broker, "access-keys", "list", "--json").stdout
    listed: list[dict[str, str]] = json.loads(out)["AccessKeyMetadata"]
    return listed


def _signing_keys(run_broker: RunBroker) -> list[str]:
    return _ok(run_broker, "keys", "list").stdout.splitlines()


def _admin_events(run_broker: RunBroker) -> list[dict[str, object]]:
    lines = _ok(run_broker, "audit", "query").stdout.splitlines()
    return [e for e in map(json.loads, lines) if e["eventType"] == "BrokerAdminCall"]


def test_access_key_and_signing_key_changes_are_audited_first(run_broker: RunBroker) -> None:
    first, second = _create(run_broker), _create(run_broker)
    third = run_broker("access-keys", "create", USER, "--account", ACCOUNT)
    assert third.returncode == 7 and "IAM's limit" in one_line(third.stderr)
    _ok(run_broker, "access-keys", "deactivate", first["AccessKeyId"])
    _ok(run_broker, "access-keys", "delete", second["AccessKeyId"])
    missing = run_broker("access-keys", "delete", "AKIANOSUCHKEY0000000")
    assert missing.returncode == 5 and "no access key" in one_line(missing.stderr)
    _ok(run_broker, "keys", "rotate")

    assert _ok(run_broker, "audit", "verify").stdout.startswith("ok: ")
    events = _admin_events(run_broker)
    refused_id = events[3]["requestID"]  # the third key: its event, then its refusal
    assert events[2]["requestID"] == refused_id and "errorCode" not in events[2]
    assert events[3]["errorCode"] == "LimitExceeded"
    assert "IAM's limit" in str(events[3]["errorMessage"])
    assert [(e["eventName"], e["requestParameters"]) for e in events] == [
        ("CreateAccessKey", {"userName": USER, "account": ACCOUNT}),
        ("CreateAccessKey", {"userName": USER, "account": ACCOUNT}),
        ("CreateAccessKey", {"userName": USER, "account": ACCOUNT}),
        ("CreateAccessKey", {"userName": USER, "account": ACCOUNT}),
        (
            "UpdateAccessKey",
            {"userName": USER, "accessKeyId": first["AccessKeyId"], "status": "Inactive"},
        ),
        ("DeleteAccessKey", {"userName": USER, "accessKeyId": second["AccessKeyId"]}),
        ("RotateSigningKey", None),  # the refused delete changed nothing and is not recorded
    ]
    assert [e["responseElements"] for e in events[:2]] == [
        {"accessKey": {"accessKeyId": key["AccessKeyId"], "status": "Active"}}
        for key in (first, second)
    ]
    who = pwd.getpwuid(os.getuid()).pw_name
    assert all(e["userIdentity"]["osUser"] == who for e in events)  # type: ignore[index]
    assert all("errorCode" not in e for i, e in enumerate(events) if i != 3)
    records = _ok(run_broker, "audit", "query").stdout
    for key in (first, second):
        assert key["SecretAccessKey"] not in records
    assert [(k["AccessKeyId"], k["Status"]) for k in _keys(run_broker)] == [
        (first["AccessKeyId"], "Inactive")
    ]


def test_an_unwritable_audit_changes_no_key(run_broker: RunBroker, broker_home: Path) -> None:
    key = _create(run_broker)
    signing = _signing_keys(run_broker)
    break_audit_chain(broker_home)

    for args, what in (
        (
            ("access-keys", "create", USER, "--account", ACCOUNT),
            f"no access key was created for {USER}",
        ),
        (("access-keys", "deactivate", key["AccessKeyId"]), "was not deactivated"),
        (("access-keys", "delete", key["AccessKeyId"]), "was not deleted"),
        (("keys", "rotate"), "no signing key was added"),
    ):
        refused = run_broker(*args)
        assert refused.returncode == AUDIT_ERROR and refused.stdout == "", refused.stderr
        line = one_line(refused.stderr)
        assert what in line and "audit" in line, line
    assert [(k["AccessKeyId"], k["Status"]) for k in _keys(run_broker)] == [
        (key["AccessKeyId"], "Active")
    ]
    assert _signing_keys(run_broker) == signing
