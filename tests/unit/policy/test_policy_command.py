"""``broker policy validate`` and ``broker policy simulate`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from broker.commands.policy import SimulateInput, run_simulate
from tests.conftest import one_line
from tests.unit.policy.helpers import ACCOUNT, ALICE, OBJECT, OTHER, allow, deny, doc

REQUEST = {
    "principal_arn": ALICE,
    "principal_account": ACCOUNT,
    "action": "s3:GetObject",
    "resource": OBJECT,
    "resource_account": ACCOUNT,
    "context": {
        "aws:SourceIp": "10.1.2.3",
        "aws:MultiFactorAuthPresent": "true",
        "aws:TagKeys": ["a", "b"],
    },
}


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_validate_reports_path_and_exits_1_on_error(run_broker, tmp_path) -> None:
    good = write(tmp_path, "good.json", doc(allow()))
    bad = write(
        tmp_path, "bad.json", doc(allow(), allow(Condition={"StringEqualsIgnorecase": {"a": "b"}}))
    )
    result = run_broker("policy", "validate", str(good), str(bad))
    assert result.returncode == 1, result.stderr
    assert f"{good}: ok" in result.stdout
    assert (
        f'{bad}: error: Statement[1].Condition: unknown operator "StringEqualsIgnorecase"'
        in result.stdout
    )


def test_validate_exit_0_with_only_warnings_and_json_format(run_broker, tmp_path) -> None:
    trust = write(
        tmp_path,
        "trust.json",
        doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}),
    )
    result = run_broker("policy", "validate", "--kind", "trust", "--format", "json", str(trust))
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)
    assert [f["code"] for f in entry["findings"]] == ["public_principal"]


def test_simulate_one_case_prints_decision_json(run_broker, tmp_path) -> None:
    case = {
        "policies": {"identity": [doc(allow())], "scp": [doc(allow(action="*"))]},
        "request": REQUEST,
    }
    result = run_broker(
        "policy",
        "simulate",
        "--input",
        str(write(tmp_path, "c.json", case)),
        "--explain",
        check_stderr_clean=True,
    )
    assert result.returncode == 0
    out = json.loads(result.stdout)
    assert out["decision"] == "Allow"
    assert [e["layer"] for e in out["explanation"]][:2] == ["scp[0]", "resource"]


def test_simulate_list_of_cases_and_requests(tmp_path) -> None:
    cases = [
        {
            "policies": {
                "identity": [
                    doc(allow(), deny(Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}))
                ]
            },
            "requests": [
                REQUEST,
                {**REQUEST, "context": {"aws:MultiFactorAuthPresent": False}},
                {**REQUEST, "action": "s3:PutObject"},
            ],
        },
        {
            "policies": {"identity": [doc(allow())]},
            "request": {**REQUEST, "resource_account": OTHER},
        },
    ]
    out = run_simulate(SimulateInput(write(tmp_path, "c.json", cases), explain=False))
    assert [[r["decision"] for r in out[0]], out[1]["decision"]] == [
        ["Allow", "ExplicitDeny", "ImplicitDeny"],
        "ImplicitDeny",
    ]


def test_simulate_malformed_input_names_the_json_path(run_broker, tmp_path) -> None:
    case = {
        "policies": {"identity": [doc(allow()), doc({"Effect": "Allow", "Action": "s3:*"})]},
        "request": REQUEST,
    }
    result = run_broker("policy", "simulate", "--input", str(write(tmp_path, "c.json", case)))
    assert result.returncode == 2 and result.stdout == ""
    line = one_line(result.stderr)
    assert "policies.identity[1].Statement[0]: missing Resource" in line


def test_simulate_missing_request_field_is_exit_2(run_broker, tmp_path) -> None:
    bad = {**REQUEST}
    del bad["resource_account"]
    case = {"policies": {}, "request": bad}
    result = run_broker("policy", "simulate", "--input", str(write(tmp_path, "c.json", case)))
    assert result.returncode == 2
    assert "request.resource_account: required" in one_line(result.stderr)


def test_simulate_not_json_is_exit_2(run_broker, tmp_path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{")
    result = run_broker("policy", "simulate", "--input", str(path))
    assert result.returncode == 2 and "not valid JSON" in one_line(result.stderr)


def test_validate_missing_file_is_exit_2_with_one_line(run_broker, tmp_path) -> None:
    result = run_broker("policy", "validate", str(tmp_path / "absent.json"))
    assert result.returncode == 2 and result.stdout == ""
    assert "absent.json: cannot read" in one_line(result.stderr)


def test_simulate_reads_stdin(run_broker) -> None:
    case = {"policies": {"identity": [doc(deny())]}, "request": REQUEST}
    result = run_broker("policy", "simulate", "--input", "-", input=json.dumps(case))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["decision"] == "ExplicitDeny"


def test_simulate_trust_policy_case(tmp_path) -> None:
    trust = doc({"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"})
    assume = {
        **REQUEST,
        "action": "sts:AssumeRole",
        "resource": f"arn:aws:iam::{ACCOUNT}:role/target",
    }
    allowed = {"policies": {"trust": [trust], "identity": [doc(allow(action="sts:AssumeRole"))]}}
    alone = {"policies": {"trust": [trust]}}
    out = run_simulate(
        SimulateInput(
            write(
                tmp_path, "c.json", [{**allowed, "request": assume}, {**alone, "request": assume}]
            ),
            explain=True,
        )
    )
    assert [case["decision"] for case in out] == ["Allow", "ImplicitDeny"]


def test_deeply_nested_json_is_bad_input_not_a_crash(run_broker, tmp_path) -> None:
    # Python's JSON parser recurses per level: a hostile file must not become an internal
    # error (exit 70, "please report it") but bad input (one line, what to do).
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    simulated = run_broker("policy", "simulate", "--input", str(path))
    assert simulated.returncode == 2 and simulated.stdout == ""
    assert "nested too deeply" in one_line(simulated.stderr)
    # (Within IAM's size quota, so the nesting is what validate reports.)
    path.write_text("[" * 5_000 + "]" * 5_000)
    validated = run_broker("policy", "validate", str(path))
    assert validated.returncode == 1
    assert "nested too deeply" in validated.stdout
    assert "internal error" not in validated.stderr


def test_simulate_refuses_a_principal_account_that_is_not_the_arns(run_broker, tmp_path) -> None:
    mismatched = {**REQUEST, "principal_account": OTHER}
    case = {"policies": {}, "request": mismatched}
    result = run_broker("policy", "simulate", "--input", str(write(tmp_path, "c.json", case)))
    assert result.returncode == 2 and result.stdout == ""
    assert "request.principal_account" in one_line(result.stderr)
