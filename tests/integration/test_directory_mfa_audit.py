"""``broker directory mfa enable|disable`` as real processes against the real Secret Service,
on the embedded SQLite and on PostgreSQL: each change is in the audit chain before it is made
(``broker audit verify`` passes, ``broker audit query`` reads it), names the user, the device
and who ran it, and holds neither the seed nor a code; an audit that cannot be written leaves
the device and its seed as they were, with one line and a non-zero exit."""

from __future__ import annotations

import json
import os
import pwd
import re
import subprocess
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest

from tests.conftest import RunBroker, one_line

pytestmark = [pytest.mark.integration, pytest.mark.keyring]

AUDIT_ERROR = 9  # broker.errors.AuditError.exit_code


@dataclass
class Deployment:
    """The CLI over one state database (the data directory's SQLite, or PostgreSQL)."""

    run_broker: RunBroker
    home: Path
    url: str
    break_audit: Callable[[], None]
    """Leave the audit chain unwritable (records without a head), as a damaged database."""

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run_broker(*args, env={"BROKER_DATABASE_URL": self.url})

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        return result

    def enrol(self, user: str) -> str:
        """Enable ``user``'s device; its seed, read from the URI shown once."""
        uri = json.loads(self.ok("directory", "mfa", "enable", user, "--json").stdout)["uri"]
        return urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]

    def devices(self, user: str) -> list[str]:
        listed: list[str] = json.loads(self.ok("directory", "mfa", "list", user, "--json").stdout)
        return listed

    def keyring_seed(self, user: str) -> str | None:
        """The seed the real keyring holds for ``user``'s device, read as the CLI reads it."""
        from broker.directory.keyring_store import KeyringSecrets
        from broker.directory.mfa import secret_key

        return KeyringSecrets(self.home).get_secret(secret_key(user, "totp"))

    def audit_records(self) -> str:
        """Every audit record, whole, as ``broker audit query`` prints them."""
        return self.ok("audit", "query").stdout

    def admin_events(self) -> list[dict[str, object]]:
        return [
            event
            for event in map(json.loads, self.audit_records().splitlines())
            if event["eventType"] == "BrokerAdminCall"
        ]


@pytest.fixture(params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, run_broker: RunBroker, broker_home: Path
) -> Deployment:
    if request.param == "postgresql":
        import psycopg

        url: str = request.getfixturevalue("fresh_database")
        upgraded = run_broker("db", "upgrade", env={"BROKER_DATABASE_URL": url})
        assert upgraded.returncode == 0, upgraded.stderr

        def break_postgres() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DELETE FROM audit_head")
                conn.execute(
                    "INSERT INTO audit_events (sequence, record, hash) VALUES (%s, '{}', %s)",
                    (10**9, "broken"),
                )

        return Deployment(run_broker, broker_home, url, break_postgres)

    from tests.state_support import break_audit_chain

    return Deployment(run_broker, broker_home, "", lambda: break_audit_chain(broker_home))


def test_enable_and_disable_are_audited_without_the_seed_or_a_code(
    deployment: Deployment,
) -> None:
    seed = deployment.enrol("alice")
    code = pyotp.TOTP(seed).now()
    deployment.ok("directory", "mfa", "verify", "alice", code)
    deployment.ok("directory", "mfa", "enable", "alice", "--replace", "--json")
    deployment.ok("directory", "mfa", "disable", "alice")
    assert deployment.devices("alice") == []

    assert deployment.ok("audit", "verify").stdout.startswith("ok: ")
    enabled = deployment.ok("audit", "query", "--event", "EnableMFADevice").stdout.splitlines()
    assert [json.loads(line)["requestParameters"] for line in enabled] == [
        {"userName": "alice", "deviceName": "totp", "replace": False},
        {"userName": "alice", "deviceName": "totp", "replace": True},
    ]
    assert [json.loads(line)["responseElements"] for line in enabled] == [
        {"replaced": False},
        {"replaced": True},
    ]
    events = deployment.admin_events()
    assert [e["eventName"] for e in events] == [
        "EnableMFADevice",
        "EnableMFADevice",
        "DeactivateMFADevice",
    ]
    assert events[-1]["requestParameters"] == {"userName": "alice", "deviceName": "totp"}
    who = pwd.getpwuid(os.getuid()).pw_name
    for event in events:
        identity = event["userIdentity"]
        assert isinstance(identity, dict)
        assert identity["type"] == "BrokerAdmin" and identity["osUser"] == who
        assert "errorCode" not in event  # each took effect

    records = deployment.audit_records()
    assert seed not in records and seed.lower() not in records
    leaves = [leaf for line in records.splitlines() for leaf in _leaves(json.loads(line))]
    # a six-digit code may occur by chance inside a hash or an id: those are hex, never a code
    assert not [leaf for leaf in leaves if code in leaf and not _HEX_ID.fullmatch(leaf)]


_HEX_ID = re.compile(r"[0-9a-f-]+")


def _leaves(value: object) -> list[str]:
    """Every scalar of a JSON value as text (keys included)."""
    if isinstance(value, dict):
        return [*map(str, value), *(leaf for item in value.values() for leaf in _leaves(item))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [str(value)]


def test_an_unwritable_audit_leaves_the_device_and_its_seed_unchanged(
    deployment: Deployment,
) -> None:
    seed = deployment.enrol("bob")
    deployment.break_audit()

    refused = deployment.run("directory", "mfa", "disable", "bob")
    assert refused.returncode == AUDIT_ERROR and refused.stdout == ""
    line = one_line(refused.stderr)
    assert "MFA device 'totp' of bob was not removed" in line and "audit" in line
    assert deployment.devices("bob") == ["totp"]
    # the seed is still in the keyring: a code from it is accepted
    deployment.ok("directory", "mfa", "verify", "bob", pyotp.TOTP(seed).now())

    for args in (("carol",), ("bob", "--replace")):
        refused = deployment.run("directory", "mfa", "enable", *args, "--json")
        assert refused.returncode == AUDIT_ERROR and refused.stdout == ""
        assert "was not enrolled for" in one_line(refused.stderr)
    assert deployment.devices("carol") == []
    assert deployment.keyring_seed("carol") is None  # nothing half-written
    assert deployment.keyring_seed("bob") == seed  # the re-enrolment replaced nothing
    # and bob's device still accepts the next step's code of the old seed
    next_step = pyotp.TOTP(seed).at(time.time() + 30)
    deployment.ok("directory", "mfa", "verify", "bob", next_step)
