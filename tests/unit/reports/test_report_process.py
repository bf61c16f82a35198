"""Each report command as a whole process on the shipped demo config."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broker.analyzer.credential_report import COLUMNS
from tests.conftest import RunBroker
from tests.state_support import embedded_state
from tests.unit.reports.events import authorize, role_caller


def test_credential_report_process(run_broker: RunBroker) -> None:
    result = run_broker("report", "credentials", check_stderr_clean=True)
    assert result.returncode == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == COLUMNS
    assert {r["user"] for r in rows} >= {"<root_account>", "alice", "ci-deployer"}
    assert all(r["password_enabled"] == "false" for r in rows if r["user"] != "<root_account>")


def test_last_accessed_process_suggests_a_policy_that_validates(
    run_broker: RunBroker, broker_home: Path, tmp_path: Path
) -> None:
    role = "arn:aws:iam::444444444445:role/service/ci-deploy"
    used = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    embedded_state(broker_home).shared.audit.append(
        authorize(role_caller(role, "ci-deployer"), "lambda:PublishVersion", used)
    )
    result = run_broker("report", "last-accessed", "--role", "ci-deploy", "--days", "30", "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    unused = {s["service"] for s in report["services"] if s["unused"]}
    assert unused == {"s3"}
    policy = tmp_path / "suggested.json"
    policy.write_text(json.dumps(report["suggested_policy"]), encoding="utf-8")
    assert report["suggested_policy"]["Statement"][0]["Action"] == [
        "lambda:UpdateFunctionCode",
        "lambda:PublishVersion",
    ]
    checked = run_broker("policy", "validate", str(policy))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    text = run_broker("report", "last-accessed", "--role", "ci-deploy", "--days", "30")
    assert text.returncode == 1
    assert "s3\tnever  UNUSED for 30+ days" in text.stdout
    assert "lambda\t" + used.isoformat() in text.stdout


def test_report_without_a_subcommand_is_a_usage_error(run_broker: RunBroker) -> None:
    result = run_broker("report")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "report credentials" in result.stderr
