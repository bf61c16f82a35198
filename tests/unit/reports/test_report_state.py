"""The reports read the deployment's state exactly: STS virtual MFA devices count for
``mfa_active`` (of that account's user only), and with ``BROKER_DATABASE_URL`` keys, devices
and audit events come from that database, never from the data directory's embedded one."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.analyzer import deployment_reports
from broker.commands.reports import CredentialReportInput, run_credential_report
from broker.config.loader import config_dir, configured_database_url, data_dir
from broker.storage.access_key_records import AccessKeyRecord, SqlAccessKeyRecords
from broker.storage.audit_chain import SqlAuditLog
from broker.storage.database import open_database
from broker.storage.migrations import upgrade
from broker.storage.sts_mfa_devices import SqlStsMfaDevices
from broker.sts.access_keys import AccessKeyStore
from broker.sts.state import StsState
from broker.sts.state_handle import StateHandle
from tests.state_support import embedded_state
from tests.unit.reports.events import authorize, key_caller

MANAGEMENT = "111111111111"  # the demo organization's management account
OTHER = "222222222222"


def _users(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """The directory users' rows (the management account's principals), by name."""
    mine = f"arn:aws:iam::{MANAGEMENT}:user/"
    return {row["user"]: row for row in rows if row["arn"].startswith(mine)}


def _by_arn(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["arn"]: row for row in rows}


def credential_rows() -> list[dict[str, str]]:
    """The report as ``broker report credentials`` makes it in this environment."""
    with StateHandle(data_dir(), configured_database_url()) as state:
        return deployment_reports.credential_rows(config_dir(), state)


def principal_access(kind: str, name: str, days: int) -> deployment_reports.PrincipalAccess:
    """As ``broker report last-accessed`` asks it in this environment."""
    with StateHandle(data_dir(), configured_database_url()) as state:
        return deployment_reports.principal_access(kind, name, days, config_dir(), state)


def _home() -> StsState:
    """The data directory's own (embedded) state."""
    return embedded_state(data_dir())


def _log(event: dict) -> None:
    _home().shared.audit.append(event)


def _enable(account: str, user: str) -> None:
    _home().mfa_devices().enable(account, user)


def _used_key(store: AccessKeyStore, user: str, account: str, action: str, when: datetime):
    """A new key of ``account``'s ``user``, with one call signed by it logged at ``when``."""
    key, _secret = store.create(user, account)
    _log(authorize(key_caller(user, key.access_key_id, account), action, when))
    return key


def test_an_sts_virtual_device_is_mfa_of_that_accounts_user_only(broker_home: Path) -> None:
    before = _users(credential_rows())
    assert before["ci-deployer"]["mfa_active"] == "false"
    assert before["bob"]["mfa_active"] == "false"

    _enable(MANAGEMENT, "ci-deployer")  # the directory user's own principal
    _enable(OTHER, "bob")  # a same-named user of another account: another principal

    out = io.StringIO()
    assert run_credential_report(CredentialReportInput("json"), out) == 0
    after = _users(json.loads(out.getvalue()))
    assert after["ci-deployer"]["mfa_active"] == "true"
    assert after["bob"]["mfa_active"] == "false"
    changed = {u for u in after if after[u]["mfa_active"] != before[u]["mfa_active"]}
    assert changed == {"ci-deployer"}
    elsewhere = _by_arn(json.loads(out.getvalue()))[f"arn:aws:iam::{OTHER}:user/bob"]
    assert (elsewhere["user"], elsewhere["mfa_active"]) == ("bob", "true")  # a row of its own


def test_keys_and_calls_of_a_same_named_user_elsewhere_are_not_on_the_row(
    broker_home: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store = _home().access_keys()
    _used_key(store, "ci-deployer", OTHER, "s3:GetObject", now)
    rows = credential_rows()
    row = _users(rows)["ci-deployer"]
    assert (row["access_key_1_active"], row["access_key_1_last_used_date"]) == ("false", "N/A")
    other = _by_arn(rows)[f"arn:aws:iam::{OTHER}:user/ci-deployer"]  # its own principal's row
    assert (other["access_key_1_active"], other["access_key_1_last_used_date"]) == (
        "true",
        now.isoformat(),
    )
    used = principal_access("user", "ci-deployer", 30).report.services
    assert all(use.last_used is None for use in used)

    own, _secret = store.create("ci-deployer", MANAGEMENT)
    _log(authorize(key_caller("ci-deployer", own.access_key_id), "sts:AssumeRole", now))
    row = _users(credential_rows())["ci-deployer"]
    assert row["access_key_1_active"] == "true"
    assert row["access_key_1_last_used_date"] == now.isoformat()
    assert {
        u.service
        for u in principal_access("user", "ci-deployer", 30).report.services
        if u.last_used
    } == {"sts"}


@pytest.fixture
def shared_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A current shared-state database (SQLite standing in for PostgreSQL) named by
    ``BROKER_DATABASE_URL``."""
    url = f"sqlite://{tmp_path / 'shared.db'}"
    database = open_database(url, pool_size=1)
    try:
        upgrade(database)
    finally:
        database.close()
    monkeypatch.setenv("BROKER_DATABASE_URL", url)
    yield url


def test_with_a_database_url_the_report_reads_the_database_not_the_data_directory(
    broker_home: Path, shared_url: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    used = now - timedelta(hours=2)
    database = open_database(shared_url, pool_size=1)
    try:
        SqlAccessKeyRecords(database).create(
            AccessKeyRecord("BRKUSHAREDKEY0000001", "ci-deployer", MANAGEMENT, "Active", used)
        )
        SqlAuditLog(database).append(
            authorize(key_caller("ci-deployer", "BRKUSHAREDKEY0000001"), "sts:AssumeRole", used)
        )
        devices = SqlStsMfaDevices(database)
        devices.add(f"arn:aws:iam::{MANAGEMENT}:mfa/ci-deployer", "ci-deployer", MANAGEMENT, "n1")
        devices.add(f"arn:aws:iam::{OTHER}:mfa/bob", "bob", OTHER, "n2")
    finally:
        database.close()
    # This host's data directory holds other, stale state: the report must not read it.
    file_keys = _home().access_keys()
    stale, _secret = file_keys.create("alice", MANAGEMENT)
    _log(authorize(key_caller("alice", stale.access_key_id), "s3:GetObject", now))

    users = _users(credential_rows())
    deployer = users["ci-deployer"]
    assert deployer["mfa_active"] == "true"
    assert deployer["access_key_1_active"] == "true"
    assert deployer["access_key_1_last_used_date"] == used.isoformat()
    assert deployer["access_key_1_last_used_service"] == "sts"
    assert users["bob"]["mfa_active"] == "false"
    assert users["alice"]["access_key_1_active"] == "false"
    access = principal_access("user", "ci-deployer", 30)
    assert {u.service: u.last_used for u in access.report.services if u.last_used} == {"sts": used}


def test_a_report_creates_no_key_ring_in_an_empty_data_directory(broker_home: Path) -> None:
    rows = credential_rows()
    assert _users(rows)["alice"]["access_key_1_active"] == "false"
    assert _home().shared.keys.keys() == ()
    assert not (broker_home / "sts").exists()
    assert not (broker_home / "audit").exists()


def test_a_device_in_the_old_device_file_counts_once_imported(broker_home: Path) -> None:
    from broker.errors import ConfigError
    from broker.private_files import PrivateFiles

    assert _users(credential_rows())["alice"]["mfa_active"] == "false"
    old = broker_home / "sts" / "mfa-devices.json"
    PrivateFiles(ConfigError).write_json(old, {f"arn:aws:iam::{MANAGEMENT}:mfa/alice": "alice"})
    assert _users(credential_rows())["alice"]["mfa_active"] == "true"
    assert not old.exists() and old.with_name("mfa-devices.json.imported").exists()


SERVICE = "111122223333"  # an account whose IAM user is no directory user


def test_a_service_users_keys_and_device_are_reported_from_the_data_directory(
    broker_home: Path,
) -> None:
    import csv

    now = datetime.now(UTC).replace(microsecond=0)
    key = _used_key(_home().access_keys(), "svc-app", SERVICE, "sqs:SendMessage", now)
    _enable(SERVICE, "svc-app")
    _enable(OTHER, "svc-ci")  # a device and no keys

    out = io.StringIO()
    assert run_credential_report(CredentialReportInput("csv"), out) == 0
    rows = _by_arn(list(csv.DictReader(io.StringIO(out.getvalue()))))
    row = rows[f"arn:aws:iam::{SERVICE}:user/svc-app"]
    assert row["user"] == "svc-app" and row["password_enabled"] == "false"
    assert row["mfa_active"] == "true"
    assert row["access_key_1_active"] == "true"
    assert row["access_key_1_last_rotated"] == key.created.isoformat(timespec="seconds")
    assert row["access_key_1_last_used_date"] == now.isoformat()
    assert row["access_key_1_last_used_service"] == "sqs"
    device_only = rows[f"arn:aws:iam::{OTHER}:user/svc-ci"]
    assert (device_only["mfa_active"], device_only["access_key_1_active"]) == ("true", "false")
    assert f"arn:aws:iam::{MANAGEMENT}:user/svc-app" not in rows


def test_a_service_users_keys_are_reported_from_the_shared_database(
    broker_home: Path, shared_url: str
) -> None:
    used = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    database = open_database(shared_url, pool_size=1)
    try:
        SqlAccessKeyRecords(database).create(
            AccessKeyRecord("BRKUSVCSHARED0000001", "svc-app", SERVICE, "Inactive", used)
        )
        SqlStsMfaDevices(database).add(
            f"arn:aws:iam::{SERVICE}:mfa/svc-app", "svc-app", SERVICE, "n"
        )
    finally:
        database.close()
    _home().access_keys().create("svc-stale", SERVICE)  # this host's files: not read

    rows = _by_arn(credential_rows())
    row = rows[f"arn:aws:iam::{SERVICE}:user/svc-app"]
    assert row["mfa_active"] == "true"
    assert row["access_key_1_active"] == "false"
    assert row["access_key_1_last_rotated"] == used.isoformat()
    assert f"arn:aws:iam::{SERVICE}:user/svc-stale" not in rows
