"""The credential report on PostgreSQL: keys created and used through real `broker serve`
replicas, and MFA devices enabled through their command lines, appear in `broker report
credentials` run on a host whose data directory is empty, and every host prints the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from broker.analyzer.usage import event_time
from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import open_database
from tests.conftest import REPO
from tests.integration.conftest import BrokerServer
from tests.integration.test_serve_replicas import _two_replicas
from tests.integration.test_sts_clients import sts

pytestmark = pytest.mark.integration

MANAGEMENT = "111111111111"  # the demo organization's management account: directory users
OTHER = "222222222222"


def _key(server: BrokerServer, user: str, account: str) -> tuple[str, str]:
    created = server.cli("access-keys", "create", user, "--account", account, "--json")
    assert created.returncode == 0, created.stderr
    shown = json.loads(created.stdout)["AccessKey"]
    return shown["AccessKeyId"], shown["SecretAccessKey"]


def _used_at(url: str, request_id: str) -> str:
    """When the chain says the call with ``request_id`` was made, as the report prints it."""
    database = open_database(url, pool_size=1)
    try:
        (record,) = [r for r in SqlAuditLog(database).records() if r["requestID"] == request_id]
    finally:
        database.close()
    when = event_time(record)
    assert when is not None
    return when.isoformat(timespec="seconds")


def _broker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "broker", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_report_on_an_empty_host_shows_keys_used_through_the_replicas(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_DATABASE_URL", fresh_database)
    with _two_replicas(fresh_database, tmp_path) as ((_, a), (_, b)):
        used_key = _key(a, "ci-deployer", MANAGEMENT)
        # a same-named user of another account: another principal, with a row of its own
        elsewhere = _key(b, "ci-deployer", OTHER)
        who = sts(b, *used_key).get_caller_identity()
        assert who["Arn"] == f"arn:aws:iam::{MANAGEMENT}:user/ci-deployer"
        sts(a, *elsewhere).get_caller_identity()
        for server, user, account in ((a, "ci-deployer", MANAGEMENT), (b, "bob", OTHER)):
            enabled = server.cli("access-keys", "mfa-enable", user, "--account", account)
            assert enabled.returncode == 0, enabled.stderr

        empty = tmp_path / "empty-host"
        empty.mkdir(mode=0o700)
        env = {**a.env, "BROKER_HOME": str(empty)}
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
        report = _broker(env, "report", "credentials", "--format", "json")
        assert report.returncode == 0, report.stderr
        rows = {r["arn"]: r for r in json.loads(report.stdout)}
        deployer = rows[f"arn:aws:iam::{MANAGEMENT}:user/ci-deployer"]
        assert deployer["mfa_active"] == "true"
        keys = {
            (deployer[f"access_key_{n}_active"], deployer[f"access_key_{n}_last_used_date"])
            for n in (1, 2)
        }
        used_at = _used_at(fresh_database, who["ResponseMetadata"]["RequestId"])
        assert keys == {("true", used_at), ("false", "N/A")}
        assert deployer["access_key_1_last_used_service"] == "sts"
        assert deployer["access_key_1_last_used_region"] == "us-east-1"
        bob = rows[f"arn:aws:iam::{MANAGEMENT}:user/bob"]
        assert bob["mfa_active"] == "false"  # bob's device is another account's user's
        other = rows[f"arn:aws:iam::{OTHER}:user/ci-deployer"]  # outside the directory
        assert other["access_key_1_active"] == "true"
        assert other["access_key_1_last_used_service"] == "sts"
        assert rows[f"arn:aws:iam::{OTHER}:user/bob"]["mfa_active"] == "true"
        assert not (empty / "audit").exists() and not (empty / "sts").exists()
        assert used_key[0] not in report.stdout  # the report names no key ids

        last = _broker(env, "report", "last-accessed", "--user", "ci-deployer", "--json")
        assert last.returncode in (0, 1), last.stderr
        services = {s["service"]: s["last_used"] for s in json.loads(last.stdout)["services"]}
        assert services["sts"] == used_at

        for server in (a, b):  # every replica host prints the same report
            again = server.cli("report", "credentials", "--format", "json")
            assert again.returncode == 0, again.stderr
            assert json.loads(again.stdout) == json.loads(report.stdout)
