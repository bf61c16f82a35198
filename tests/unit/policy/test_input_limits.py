"""Input limits and batches of ``broker policy simulate`` / ``validate``, through the real CLI:
IAM's policy size quotas (IAM User Guide, "IAM and AWS STS quotas"; AWS Organizations User
Guide, "Quotas and service limits"), characters IAM does not take, numbers Python cannot read,
and a list of cases answered case by case.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from broker.policy import validate_policy
from broker.policy.limits import POLICY_SIZE_LIMITS, policy_size
from tests.conftest import one_line
from tests.unit.policy.helpers import BUCKET, OBJECT, allow, deny, doc
from tests.unit.policy.test_policy_command import REQUEST as COMMAND_REQUEST

# The command tests' request, without its context.
REQUEST = {key: value for key, value in COMMAND_REQUEST.items() if key != "context"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def padded(kind_limit: int) -> dict[str, object]:
    """An identity policy of exactly ``kind_limit`` characters, whitespace not counted."""
    base = doc(allow(resource=[OBJECT]))
    room = kind_limit - policy_size(base) - len(',""')
    base["Statement"][0]["Resource"].append(BUCKET + "/" + "k" * (room - len(BUCKET) - 1))
    assert policy_size(base) == kind_limit
    return base


@pytest.mark.parametrize(
    ("kind", "limit"),
    [("identity", 10_240), ("boundary", 6_144), ("session", 2_048), ("scp", 5_120)],
)
def test_size_quota_per_kind(kind: str, limit: int) -> None:
    # "IAM and AWS STS quotas": whitespace is not counted; one character over is refused.
    assert POLICY_SIZE_LIMITS[kind] == limit  # type: ignore[index]
    exact = padded(limit)
    assert not [f for f in validate_policy(exact, kind=kind) if f.severity == "error"]  # type: ignore[arg-type]
    exact["Statement"][0]["Resource"][1] += "k"  # type: ignore[index]
    codes = [f.code for f in validate_policy(exact, kind=kind)]  # type: ignore[arg-type]
    assert codes == ["policy_too_large"]
    # Whitespace does not count against the quota.
    spaced = json.dumps(padded(limit), indent=8)
    assert len(spaced) > limit
    assert not [f for f in validate_policy(spaced, kind=kind) if f.severity == "error"]  # type: ignore[arg-type]


def test_absurd_policy_is_refused_fast_with_exit_2(run_broker, tmp_path) -> None:
    huge = doc(allow(resource=[f"{BUCKET}/{i:09d}" for i in range(300_000)]))  # ~10 MB
    case = {"policies": {"identity": [huge]}, "request": REQUEST}
    path = write(tmp_path, "c.json", json.dumps(case))
    assert path.stat().st_size > 9_000_000
    started = time.monotonic()
    result = run_broker("policy", "simulate", "--input", str(path))
    elapsed = time.monotonic() - started
    assert result.returncode == 2 and result.stdout == ""
    line = one_line(result.stderr)
    assert "policies.identity[0]" in line and "at most 10,240" in line
    # Not a timing test of speed: a ceiling far above the real cost (well under a second on a
    # quiet machine), only to catch validating 300,000 resources before refusing.
    assert elapsed < 15, elapsed


def test_integer_over_4300_digits_is_exit_2_not_internal(run_broker, tmp_path) -> None:
    case = {"policies": {}, "request": {**REQUEST, "context": {"n": 1}}}
    text = json.dumps(case).replace('"n": 1', '"n": ' + "9" * 5000)
    result = run_broker("policy", "simulate", "--input", str(write(tmp_path, "c.json", text)))
    assert result.returncode == 2 and result.stdout == ""
    assert "too many digits" in one_line(result.stderr)
    policy = json.dumps(doc(allow(Condition={"NumericLessThan": {"s3:max-keys": 1}})))
    policy = policy.replace('"s3:max-keys": 1', '"s3:max-keys": ' + "9" * 5000)
    validated = run_broker("policy", "validate", str(write(tmp_path, "p.json", policy)))
    assert validated.returncode == 1 and "too many digits" in validated.stdout


@pytest.mark.parametrize(("escape", "named"), [("\\u0000", "NUL"), ("\\ud800", "lone surrogate")])
def test_nul_and_lone_surrogates_are_refused(run_broker, tmp_path, escape: str, named: str) -> None:
    policy = json.dumps(doc(allow(resource=OBJECT + "X"))).replace("X", escape)
    validated = run_broker("policy", "validate", str(write(tmp_path, "p.json", policy)))
    assert validated.returncode == 1 and named in validated.stdout
    request = json.dumps({**REQUEST, "resource": OBJECT + "X"}).replace("X", escape)
    case = '{"policies": {}, "request": ' + request + "}"
    result = run_broker("policy", "simulate", "--input", str(write(tmp_path, "c.json", case)))
    assert result.returncode == 2 and result.stdout == ""
    assert "request.resource" in one_line(result.stderr) and named in result.stderr
    # A valid surrogate pair is one ordinary character.
    paired = json.dumps(doc(allow(resource=OBJECT + "X"))).replace("X", "\\ud83d\\ude00")
    fine = run_broker("policy", "validate", str(write(tmp_path, "ok.json", paired)))
    assert fine.returncode == 0, fine.stdout


def test_a_list_of_cases_answers_each_case(run_broker, tmp_path) -> None:
    good = {"policies": {"identity": [doc(allow())]}, "request": REQUEST}
    bad_policy = {"policies": {"identity": [doc({"Effect": "Allow", "Action": "s3:*"})]}}
    bad_policy["request"] = REQUEST
    denied = {"policies": {"identity": [doc(allow(), deny())]}, "request": REQUEST}
    mixed_requests = {
        "policies": {"identity": [doc(allow())]},
        "requests": [REQUEST, {**REQUEST, "action": 7}, {**REQUEST, "action": "s3:PutObject"}],
    }
    cases = [good, bad_policy, denied, "not a case", mixed_requests]
    result = run_broker(
        "policy", "simulate", "--input", str(write(tmp_path, "c.json", json.dumps(cases)))
    )
    # Every case is answered; the refused ones carry their error; exit 1 says some were.
    assert result.returncode == 1, result.stderr
    out = json.loads(result.stdout)
    assert out[0]["decision"] == "Allow"
    assert "[1].policies.identity[0].Statement[0]: missing Resource" in out[1]["error"]
    assert out[2]["decision"] == "ExplicitDeny"
    assert "[3]" in out[3]["error"]
    assert [r.get("decision") for r in out[4]] == ["Allow", None, "ImplicitDeny"]
    assert "[4].requests[1].action: required, a string" in out[4][1]["error"]


def test_a_list_with_every_case_readable_exits_0(run_broker, tmp_path) -> None:
    cases = [{"policies": {"identity": [doc(allow())]}, "request": REQUEST}] * 3
    result = run_broker(
        "policy", "simulate", "--input", str(write(tmp_path, "c.json", json.dumps(cases)))
    )
    assert result.returncode == 0, result.stderr
    assert [c["decision"] for c in json.loads(result.stdout)] == ["Allow"] * 3


def test_malformed_file_is_still_exit_2(run_broker, tmp_path) -> None:
    result = run_broker("policy", "simulate", "--input", str(write(tmp_path, "c.json", "[{")))
    assert result.returncode == 2 and result.stdout == ""


def test_anonymous_caller_may_have_no_account(run_broker, tmp_path) -> None:
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJECT}
    anonymous = {**REQUEST, "principal_arn": "anonymous", "principal_account": None}
    case = {"policies": {"resource": [doc(public)]}, "request": anonymous}
    result = run_broker(
        "policy", "simulate", "--input", str(write(tmp_path, "c.json", json.dumps(case)))
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["decision"] == "Allow"
    # Only an anonymous caller: an IAM principal still needs its account.
    named = {**REQUEST, "principal_account": None}
    refused = {"policies": {}, "request": named}
    bad = run_broker(
        "policy", "simulate", "--input", str(write(tmp_path, "d.json", json.dumps(refused)))
    )
    assert bad.returncode == 2 and "principal_account: required" in one_line(bad.stderr)
