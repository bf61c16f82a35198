"""``broker report credentials|last-accessed`` over a directory and an audit log built here."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.analyzer.credential_report import COLUMNS
from broker.commands.reports import (
    CredentialReportInput,
    LastAccessedInput,
    run_credential_report,
    run_last_accessed,
)
from broker.config.loader import data_dir
from broker.errors import DirectoryError, UsageError
from tests.conftest import CONFIG
from tests.state_support import embedded_state
from tests.unit.reports.events import authorize, key_caller, role_caller, sign_in

CI_ROLE = "arn:aws:iam::444444444445:role/service/ci-deploy"
SANDBOX = (
    '[accounts.sandbox]\nid = "666666666666"\nemail = "aws-sandbox@example.com"\nou = "Sandbox"\n'
)


@pytest.fixture
def config(tmp_path: Path, broker_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo config, with the sandbox account's root user holding keys and no MFA."""
    root = tmp_path / "config"
    shutil.copytree(CONFIG, root)
    organization = root / "directory" / "organization.toml"
    text = organization.read_text(encoding="utf-8")
    assert SANDBOX in text
    risky = SANDBOX + "root_user = { mfa = false, access_keys = true }\n"
    organization.write_text(text.replace(SANDBOX, risky), encoding="utf-8")
    monkeypatch.setenv("BROKER_CONFIG", str(root))
    return root


def _log(*events: dict) -> None:
    log = embedded_state(data_dir()).shared.audit
    for event in events:
        log.append(event)


def _report(fmt: str = "csv") -> str:
    out = io.StringIO()
    assert run_credential_report(CredentialReportInput(fmt), out) == 0  # type: ignore[arg-type]
    return out.getvalue()


def test_credential_report_csv_reads_back_with_the_exact_header(config: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store = embedded_state(data_dir()).access_keys()
    used, _secret = store.create("ci-deployer", "111111111111")
    idle, _secret = store.create("ci-deployer", "111111111111")
    store.set_status(idle.access_key_id, "Inactive")
    _log(
        authorize(
            key_caller("ci-deployer", used.access_key_id), "sts:AssumeRole", now - timedelta(days=1)
        ),
        sign_in(
            "alice",
            "alice@example.com",
            CI_ROLE,
            now - timedelta(minutes=5),
            now + timedelta(hours=1),
        ),
    )
    rows = list(csv.reader(io.StringIO(_report())))
    assert tuple(rows[0]) == COLUMNS
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    roots = {r["arn"]: r for r in table if r["user"] == "<root_account>"}
    assert len(roots) == 10
    assert roots["arn:aws:iam::666666666666:root"]["mfa_active"] == "false"
    assert roots["arn:aws:iam::666666666666:root"]["access_key_1_active"] == "true"
    assert roots["arn:aws:iam::111111111111:root"]["access_key_1_active"] == "false"
    users = {r["user"]: r for r in table if r["user"] != "<root_account>"}
    deployer = users["ci-deployer"]
    assert deployer["arn"] == "arn:aws:iam::111111111111:user/ci-deployer"
    # created in the same second, so either may be key 1: compare the pair
    keys = {
        tuple(
            deployer[f"access_key_{n}_{f}"]
            for f in ("active", "last_used_date", "last_used_service")
        )
        for n in (1, 2)
    }
    assert keys == {
        ("true", (now - timedelta(days=1)).isoformat(), "sts"),
        ("false", "N/A", "N/A"),
    }
    assert users["alice"]["active_sessions"] == "1"
    assert users["bob"]["last_sign_in"] == "N/A"


def test_credential_report_json_matches_csv(config: Path) -> None:
    rows = json.loads(_report("json"))
    assert [tuple(row) for row in rows] == [COLUMNS] * len(rows)
    assert len(rows) == len(_report().splitlines()) - 1


def _last(kind: str, name: str, days: int = 90) -> tuple[int, dict]:
    out = io.StringIO()
    code = run_last_accessed(LastAccessedInput(kind, name, days, True), out)  # type: ignore[arg-type]
    return code, json.loads(out.getvalue())


def test_last_accessed_for_a_role_from_its_sessions(config: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    caller = role_caller(CI_ROLE, "ci-deployer")
    _log(
        sign_in("ci-deployer", "ci-deployer@example.com", CI_ROLE, now - timedelta(days=3), now),
        authorize(caller, "s3:PutObject", now - timedelta(days=1)),
        # another role's use of lambda is not this role's
        authorize(
            role_caller("arn:aws:iam::444444444445:role/other", "bob"), "lambda:PublishVersion", now
        ),
    )
    code, report = _last("role", "ci-deploy")
    assert code == 1
    uses = {s["service"]: s for s in report["services"]}
    assert set(uses) == {"lambda", "s3"}
    assert uses["s3"]["unused"] is False
    assert uses["lambda"] == {"service": "lambda", "last_used": None, "unused": True}
    assert report["last_assumed"] == (now - timedelta(days=3)).isoformat()
    statement = report["suggested_policy"]["Statement"][0]
    assert statement["Action"] == ["s3:PutObject"]
    assert statement["Resource"][1] == "arn:aws:s3:::example-payments-artifacts/*"


def test_last_accessed_for_a_permission_set_and_a_user(config: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    _log(authorize(key_caller("ci-deployer", "BRKUEXAMPLEKEY000001"), "sts:AssumeRole", now))
    code, report = _last("user", "ci-deployer")
    assert code == 0
    assert report["services"] == [{"service": "sts", "last_used": now.isoformat(), "unused": False}]
    code, report = _last("permission-set", "ReadOnlyAccess")
    assert code == 1
    assert report["suggested_policy"] is None
    assert all(s["unused"] for s in report["services"])


def test_last_accessed_refuses_unknown_principals_and_bad_days(config: Path) -> None:
    with pytest.raises(DirectoryError, match="no role"):
        _last("role", "no-such-role")
    with pytest.raises(DirectoryError, match="not assigned"):
        _last("permission-set", "NoSuchSet")
    with pytest.raises(UsageError, match="--days"):
        _last("user", "ci-deployer", days=0)
