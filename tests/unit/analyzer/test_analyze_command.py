"""``broker analyze`` and ``broker analyze compare``: run functions directly, and the real
command as a process."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from broker.commands.reports import (
    AnalyzeInput,
    CompareInput,
    TargetSpec,
    run_analyze,
    run_compare,
)
from broker.errors import UsageError
from tests.unit.analyzer.universe import BUCKET, HOME, ORG, ROLE_ARN, SIBLING


def write(tmp_path: Path, name: str, *statements: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return path


OPEN_TRUST = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
ORG_TRUST = {**OPEN_TRUST, "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}


def analyze_files(tmp_path: Path, *specs: TargetSpec, as_json: bool) -> tuple[int, str]:
    out = io.StringIO()
    options = AnalyzeInput("organization", ORG, (HOME, SIBLING), specs, as_json)
    return run_analyze(options, out), out.getvalue()


def test_analyze_reports_each_target_with_witness_as_json(tmp_path: Path) -> None:
    open_role = TargetSpec("trust", ROLE_ARN, write(tmp_path, "open.json", OPEN_TRUST))
    org_role = TargetSpec("trust", ROLE_ARN, write(tmp_path, "org.json", ORG_TRUST))
    code, text = analyze_files(tmp_path, open_role, org_role, as_json=True)
    assert code == 1
    first, second = json.loads(text)
    assert first["status"] == "external"
    assert first["findings"][0]["action"] == "sts:AssumeRole"
    assert first["findings"][0]["principal_account"] not in (HOME, SIBLING)
    assert second["status"] == "none" and second["findings"] == []


def test_analyze_text_says_no_external_access_and_exits_zero(tmp_path: Path) -> None:
    org_role = TargetSpec("trust", ROLE_ARN, write(tmp_path, "org.json", ORG_TRUST))
    code, text = analyze_files(tmp_path, org_role, as_json=False)
    assert code == 0
    assert text.strip().endswith("no external access")


def test_analyze_resource_without_account_in_arn_uses_the_zone_account(tmp_path: Path) -> None:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    spec = TargetSpec("resource", BUCKET, write(tmp_path, "bucket.json", statement))
    code, text = analyze_files(tmp_path, spec, as_json=True)
    assert code == 1
    assert json.loads(text)[0]["account"] == HOME


def test_analyze_refuses_a_malformed_policy_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UsageError, match="not valid JSON"):
        analyze_files(tmp_path, TargetSpec("trust", ROLE_ARN, bad), as_json=False)


def test_compare_answers_with_a_witness_the_old_policy_refuses(tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", ORG_TRUST)
    new = write(tmp_path, "new.json", OPEN_TRUST)
    out = io.StringIO()
    assert run_compare(CompareInput(old, new, "trust", True), out) == 1
    answer = json.loads(out.getvalue())
    assert answer["status"] == "broader"
    context = {k.lower(): v for k, v in answer["witness"]["context"].items()}
    assert context.get("aws:principalorgid") != ORG
    out = io.StringIO()
    assert run_compare(CompareInput(new, old, "trust", False), out) == 0
    assert "allows nothing that" in out.getvalue()


def test_commands_as_a_process(run_broker: Any, tmp_path: Path) -> None:
    old = write(tmp_path, "old.json", ORG_TRUST)
    new = write(tmp_path, "new.json", OPEN_TRUST)
    result = run_broker("analyze", "compare", "--kind", "trust", "--json", str(old), str(new))
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["status"] == "broader"
    # The shipped demo organization: every role is analysed, none is open to outsiders.
    result = run_broker("analyze", "--json", timeout=120)
    assert result.returncode in (0, 1), result.stderr
    answers = json.loads(result.stdout)
    assert answers and all(a["status"] != "external" for a in answers)
    assert any(a["status"] == "none" for a in answers)


def test_directory_roles_trusting_the_organization_by_id_are_internal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --org-id, the organization's declared id is the zone's: a role trusting anyone
    with ``aws:PrincipalOrgID`` of it is not external; with no id declared, it is a finding."""
    import shutil

    from tests.conftest import CONFIG

    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    trust = {**OPEN_TRUST, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-example0001"}}}
    (config / "policies" / "trust-org-readers.json").write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [trust]})
    )
    with (config / "directory" / "roles.toml").open("a") as roles:
        roles.write(
            '\n[[roles]]\naccount = "sandbox"\nname = "org-readers"\n'
            'trust_policy = "trust-org-readers"\npolicies = ["ReadOnlyAccess"]\n'
        )
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    monkeypatch.setenv("BROKER_HOME", str(tmp_path / "home"))

    def status_of_org_readers() -> str:
        out = io.StringIO()
        run_analyze(AnalyzeInput("organization", None, (), (), True), out)
        (answer,) = [a for a in json.loads(out.getvalue()) if "org-readers" in a["resource"]]
        return str(answer["status"])

    assert status_of_org_readers() == "none"
    organization = config / "directory" / "organization.toml"
    organization.write_text(organization.read_text().replace('id = "o-example0001"\n', "", 1))
    assert status_of_org_readers() == "external"
