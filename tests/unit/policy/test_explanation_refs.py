"""Explanations name the statements that decided, list (when asked in full) the statements whose
Action left the action out, and in a batch stream one compact answer per line."""

from __future__ import annotations

import json
from pathlib import Path

from broker.policy import PolicySet, evaluate
from tests.unit.policy.helpers import ACCOUNT, ALICE, OBJECT, allow, deny, doc, policy, request


def final(decision) -> dict:
    entry = decision.explanation[-1]
    assert entry["layer"] == "decision"
    return entry


def test_explicit_deny_names_the_deny_that_applied() -> None:
    sets = PolicySet(
        identity=[policy(allow()), policy(allow(), deny(Sid="NoReports"))],
    )
    deciding = final(evaluate(sets, request()))["deciding"]
    assert deciding == [
        {"layer": "identity", "policy": 1, "statement": 1, "effect": "Deny", "sid": "NoReports"}
    ]


def test_allow_names_the_first_allow_of_each_layer_that_allowed() -> None:
    sets = PolicySet(
        identity=[policy(allow("ec2:*"), allow(Sid="Reports"), allow("s3:*"))],
        boundary=policy(allow("s3:*", Sid="Bound"), kind="boundary"),
        scp_hierarchy=[[policy(allow("*"), kind="scp")]],
    )
    deciding = final(evaluate(sets, request()))["deciding"]
    assert [(d["layer"], d["statement"], d.get("sid")) for d in deciding] == [
        ("scp[0]", 0, None),
        ("identity", 1, "Reports"),
        ("boundary", 0, "Bound"),
    ]


def test_implicit_deny_has_no_deciding_statement_and_says_which_layer() -> None:
    sets = PolicySet(identity=[policy(allow("ec2:*"))])
    entry = final(evaluate(sets, request()))
    assert entry["decision"] == "ImplicitDeny" and entry["deciding"] == []
    assert "no identity-based policy" in entry["reason"]


def test_full_lists_statements_whose_action_did_not_match() -> None:
    sets = PolicySet(
        identity=[policy(allow("ec2:*"), {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"})]
    )
    brief = {e["layer"]: e for e in evaluate(sets, request()).explanation}
    assert brief["identity"]["result"] == "NoMatch" and brief["identity"]["statements"] == []
    full = {e["layer"]: e for e in evaluate(sets, request(), full=True).explanation}
    assert full["identity"]["result"] == "NoMatch"
    assert [
        (s["statement"], s["applies"], s["reason"]) for s in full["identity"]["statements"]
    ] == [
        (0, False, "Action does not match"),
        (1, False, "NotAction lists the action"),
    ]


def test_full_and_brief_reach_the_same_decision() -> None:
    sets = PolicySet(identity=[policy(allow("ec2:*"), allow(), deny("s3:PutObject"))])
    for action in ("s3:GetObject", "s3:PutObject", "ec2:RunInstances", "iam:GetUser"):
        req = request(action=action)
        assert (
            evaluate(sets, req, full=True).decision
            == evaluate(sets, req).decision
            == evaluate(sets, req, explain=False).decision
        )


REQUEST = {
    "principal_arn": ALICE,
    "principal_account": ACCOUNT,
    "action": "s3:GetObject",
    "resource": OBJECT,
    "resource_account": ACCOUNT,
}


def test_simulate_explain_full_batch_streams_one_answer_per_line(
    run_broker, tmp_path: Path
) -> None:
    case = {
        "policies": {"identity": [doc(allow("ec2:*"), allow(Sid="Reports"))]},
        "requests": [REQUEST, {**REQUEST, "action": "s3:PutObject"}],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(case))
    result = run_broker(
        "policy", "simulate", "--explain", "full", "--input", str(path), check_stderr_clean=True
    )
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 4
    answers = json.loads(result.stdout)
    assert [a["decision"] for a in answers] == ["Allow", "ImplicitDeny"]
    allowed, denied = (a["explanation"] for a in answers)
    assert allowed[-1]["deciding"] == [
        {
            "layer": "identity",
            "policy": 0,
            "statement": 1,
            "effect": "Allow",
            "sid": "Reports",
            "policy_name": "policies.identity[0]",
        }
    ]
    identity = next(e for e in denied if e["layer"] == "identity")
    assert identity["result"] == "NoMatch"
    assert {s["reason"] for s in identity["statements"]} == {"Action does not match"}


def test_simulate_unexplained_batch_is_one_line(run_broker, tmp_path: Path) -> None:
    case = [
        {"policies": {"identity": [doc(allow())]}, "requests": [REQUEST, REQUEST]},
        {"policies": {}, "request": REQUEST},
    ]
    path = tmp_path / "c.json"
    path.write_text(json.dumps(case))
    result = run_broker("policy", "simulate", "--input", str(path), check_stderr_clean=True)
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == [
        [{"decision": "Allow", "explanation": []}, {"decision": "Allow", "explanation": []}],
        {"decision": "ImplicitDeny", "explanation": []},
    ]


def test_simulate_reads_context_values_as_evaluation_normalises_them(tmp_path: Path) -> None:
    """The batch reader builds the normalised context itself (speed); it must equal what
    ``normalise_context`` makes of the raw values, for every JSON value kind it accepts."""
    from broker.policy.applicability import normalise_context
    from broker.policy.cases import read_cases

    raw = {
        "Aws:SecureTransport": True,
        "aws:MultiFactorAuthAge": 300,
        "aws:TagKeys": ["a", True, 7],
        "aws:PrincipalTag/Team": "red",
        "aws:ViaAWSService": False,
    }
    (case,), _ = read_cases({"policies": {}, "request": {**REQUEST, "context": raw}})
    (read,) = case.requests
    assert dict(normalise_context(read.context)) == normalise_context(raw)
