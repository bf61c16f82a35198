"""Witnesses of ``broker analyze`` and ``broker analyze compare`` name real actions (from the
Service Authorization Reference), resources of the action's own type and readable principals,
and each renamed witness is still one (the engine re-checks it)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from broker.analyzer.external import witness_policies
from broker.analyzer.real_names import expand_action, readable_witness
from broker.commands.reports import AnalyzeInput, CompareInput, TargetSpec, run_analyze, run_compare
from broker.policy import PolicySet, Request, evaluate, parse_policy
from broker.policy.service_reference import service_reference
from tests.unit.analyzer.universe import BUCKET_NEW, BUCKET_OLD, HOME, ORG, SIBLING

NAME = re.compile(r"[A-Za-z0-9+=,.@_-]+")


def write(tmp_path: Path, name: str, *statements: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return path


def compare(tmp_path: Path, kind: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = io.StringIO()
    options = CompareInput(
        write(tmp_path, "old.json", old), write(tmp_path, "new.json", new), kind, True
    )  # type: ignore[arg-type]
    assert run_compare(options, out) == 1
    result = json.loads(out.getvalue())
    assert result["status"] == "broader"
    return result["witness"]


def assert_real(action: str) -> None:
    found = service_reference().action(action)
    assert found is not None and found.full_name == action, action


def test_expand_action_gives_real_spellings() -> None:
    assert expand_action("S3:getbucketacl") == ["s3:GetBucketAcl"]
    assert "s3:GetObject" in expand_action("s3:Get*")
    assert expand_action("s3:NoSuchThing*") == [] and expand_action("*") == []


def test_compare_identity_witness_is_a_real_action_on_its_resource_type(tmp_path: Path) -> None:
    old = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    new = {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}
    witness = compare(tmp_path, "identity", old, new)
    assert_real(witness["action"])
    assert witness["action"] != "s3:GetObject" and witness["action"].startswith("s3:Get")
    assert witness["resource"].startswith("arn:aws:s3:::")
    principal_name = witness["principal"].rsplit("/", 1)[-1]
    assert NAME.fullmatch(principal_name), witness["principal"]


def test_compare_resource_policy_witness_uses_the_policy_resource(tmp_path: Path) -> None:
    witness = compare(tmp_path, "resource", BUCKET_OLD, BUCKET_NEW)
    assert_real(witness["action"])
    # Inside the policy's Resource: an object (a non-empty key) of example-bucket. Any key is
    # legal there ("/" included), so the test does not pin one shape of name.
    prefix = "arn:aws:s3:::example-bucket/"
    assert witness["resource"].startswith(prefix) and len(witness["resource"]) > len(prefix)


def _bucket_comparison(seed: int) -> Request:
    import z3

    from broker.analyzer.compare import compare as compare_policies

    old = parse_policy({"Version": "2012-10-17", "Statement": [BUCKET_OLD]}, kind="resource")
    new = parse_policy({"Version": "2012-10-17", "Statement": [BUCKET_NEW]}, kind="resource")
    z3.set_param("smt.random_seed", seed)
    z3.set_param("sat.random_seed", seed)
    try:
        result = compare_policies(old, new)
    finally:
        z3.set_param("smt.random_seed", 0)
        z3.set_param("sat.random_seed", 0)
    assert result.status == "broader" and result.witness is not None
    return result.witness


@pytest.mark.parametrize("seed", range(12))
def test_the_witness_resource_is_the_same_whatever_model_the_solver_finds(seed: int) -> None:
    """The solver's own object name changes with its seed (``a_v_/``, ``P``, ``   ``...); the
    witness names the policy's own Resource made concrete, and the engine still agrees."""
    witness = _bucket_comparison(seed)
    assert witness.resource == "arn:aws:s3:::example-bucket/example"
    old = parse_policy({"Version": "2012-10-17", "Statement": [BUCKET_OLD]}, kind="resource")
    new = parse_policy({"Version": "2012-10-17", "Statement": [BUCKET_NEW]}, kind="resource")
    assert evaluate(witness_policies(PolicySet(resource=[new])), witness, explain=False).allowed
    assert not evaluate(witness_policies(PolicySet(resource=[old])), witness, explain=False).allowed


def test_a_readable_solver_resource_still_gives_way_to_the_policys_own() -> None:
    solved = Request(
        "s3:GetObject",
        "arn:aws:s3:::b/a_v_/",
        "arn:aws:iam::111122223333:user/x",
        "111122223333",
        "111122223333",
    )
    in_bucket = lambda r: r.resource.startswith("arn:aws:s3:::b/")  # noqa: E731
    named = readable_witness(solved, in_bucket, resources=["arn:aws:s3:::b/*"])
    assert named.resource == "arn:aws:s3:::b/example"
    # no named resource is a witness: the solver's stays
    only_solved = lambda r: r.resource == solved.resource  # noqa: E731
    kept = readable_witness(solved, only_solved, resources=["arn:aws:s3:::b/*"])
    assert kept.resource == solved.resource


def test_analyze_external_witness_names_a_real_action(tmp_path: Path) -> None:
    bucket = "arn:aws:s3:::example-bucket"
    policy = write(
        tmp_path,
        "bucket.json",
        {"Effect": "Allow", "Principal": "*", "Action": "s3:Get*", "Resource": f"{bucket}/*"},
    )
    out = io.StringIO()
    options = AnalyzeInput(
        "organization", ORG, (HOME, SIBLING), (TargetSpec("resource", bucket, policy),), True
    )
    assert run_analyze(options, out) == 1
    (result,) = json.loads(out.getvalue())
    for finding in result["findings"]:
        assert_real(finding["action"])
        assert finding["action"].startswith("s3:Get")


def test_renaming_keeps_only_what_is_still_a_witness() -> None:
    allowed_actions = {"s3:GetObject"}
    witness = Request(
        "S3:GETOBJECT",
        "arn:aws:s3:::b/ ?",
        "arn:aws:iam::111122223333:user/ ",
        "111122223333",
        "111122223333",
    )
    named = readable_witness(
        witness,
        lambda r: (
            r.action.lower() in {a.lower() for a in allowed_actions}
            and r.resource.startswith("arn:aws:s3:::b/")
        ),
        resources=["arn:aws:s3:::b/*"],
    )
    assert named.action == "s3:GetObject"
    assert named.resource == "arn:aws:s3:::b/example"
    assert named.principal_arn == "arn:aws:iam::111122223333:user/witness-user"
    # a predicate that refuses every change keeps the solver's witness as it was
    assert readable_witness(witness, lambda r: r == witness) == witness


def test_renamed_witness_is_allowed_by_the_engine() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "arn:aws:s3:::b"}],
        }
    )
    sets = PolicySet(identity=[policy])
    witness = Request(
        "s3:listb",
        "arn:aws:s3:::b",
        "arn:aws:iam::111122223333:user/x",
        "111122223333",
        "111122223333",
    )
    named = readable_witness(
        witness, lambda r: evaluate(sets, r, explain=False).allowed, actions=["s3:List*"]
    )
    assert_real(named.action)
    assert evaluate(sets, named, explain=False).allowed
    assert named.action.startswith("s3:List")
