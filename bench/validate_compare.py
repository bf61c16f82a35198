"""`broker policy validate` and parliament side by side on the same policies.

Usage: ``python bench/validate_compare.py [--only NAME]`` (parliament is in the dev extra).

Each policy below holds one documented mistake (or none, as a control) and names the check that
should catch it. For every policy the script prints what each tool reported, then a table: per
mistake, whether each tool caught it, and the false findings on the controls. Both tools read
AWS's Service Authorization Reference (ours from the bundled snapshot, parliament from its own),
so differences are about the checks, not the data. This is a comparison, not a test: it asserts
nothing and its output is for reading.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broker.policy import validate_policy
from broker.policy.reference_checks import reference_findings

BUCKET = "arn:aws:s3:::example-bucket"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# (name, the finding code of ours that names the mistake or None for a control, document)
CASES: list[tuple[str, str | None, dict[str, Any]]] = [
    ("control: object actions on objects", None, _doc(_allow("s3:GetObject", f"{BUCKET}/*"))),
    (
        "control: list bucket with a prefix condition",
        None,
        _doc(_allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["home/*"]}})),
    ),
    (
        "control: tag-based EC2 access",
        None,
        _doc(
            _allow(
                "ec2:StartInstances",
                "arn:aws:ec2:*:111122223333:instance/*",
                Condition={"StringEquals": {"aws:ResourceTag/team": "red"}},
            )
        ),
    ),
    ("misspelled action", "unknown_action", _doc(_allow("s3:GetObjet", f"{BUCKET}/*"))),
    ("unknown service prefix", "unknown_service", _doc(_allow("s4:GetObject"))),
    ("wildcard matching no action", "unknown_action", _doc(_allow("s3:Fetch*"))),
    (
        "bucket ARN for an object action",
        "resource_matches_no_type",
        _doc(_allow("s3:GetObject", BUCKET)),
    ),
    (
        "object ARN for a bucket action (beside an object action)",
        "action_matches_no_resource",
        _doc(_allow(["s3:GetObject", "s3:ListBucket"], f"{BUCKET}/*")),
    ),
    (
        "action that takes only Resource *",
        "action_needs_resource_star",
        _doc(_allow("s3:ListAllMyBuckets", BUCKET)),
    ),
    (
        "misspelled global condition key",
        "unknown_global_condition_key",
        _doc(
            _allow("s3:GetObject", Condition={"IpAddress": {"aws:SourceIpAddress": "10.0.0.0/8"}})
        ),
    ),
    (
        "misspelled tag key prefix",
        "unknown_global_condition_key",
        _doc(_allow("s3:GetObject", Condition={"StringEquals": {"aws:PrincipalTags/team": "red"}})),
    ),
    (
        "service condition key that does not exist",
        "unknown_condition_key",
        _doc(_allow("s3:PutObject", Condition={"StringEquals": {"s3:x-amz-acll": "private"}})),
    ),
    (
        "condition key the action does not support",
        "condition_key_not_supported",
        _doc(_allow("s3:GetObject", Condition={"StringEquals": {"s3:x-amz-acl": "private"}})),
    ),
    (
        "condition key of another service",
        "condition_key_not_supported",
        _doc(_allow("iam:PassRole", Condition={"StringEquals": {"ec2:Region": "eu-west-1"}})),
    ),
]


# The parliament issue that corresponds to each of our codes.
PARLIAMENT_ISSUE = {
    "unknown_action": "UNKNOWN_ACTION",
    "unknown_service": "UNKNOWN_PREFIX",
    "resource_matches_no_type": "RESOURCE_MISMATCH",
    "action_matches_no_resource": "RESOURCE_MISMATCH",
    "action_needs_resource_star": "RESOURCE_MISMATCH",
    "unknown_global_condition_key": "UNKNOWN_CONDITION_FOR_ACTION",
    "unknown_condition_key": "UNKNOWN_CONDITION_FOR_ACTION",
    "condition_key_not_supported": "UNKNOWN_CONDITION_FOR_ACTION",
}


def ours(document: dict[str, Any]) -> list[str]:
    text = json.dumps(document)
    found = validate_policy(text) + reference_findings(document, "identity")
    return [f"{f.severity} {f.code} at {f.path}" for f in found]


def ours_codes(document: dict[str, Any]) -> set[str]:
    return {f.code for f in validate_policy(json.dumps(document))} | {
        f.code for f in reference_findings(document, "identity")
    }


def parliament_findings(document: dict[str, Any]) -> list[str]:
    from parliament import analyze_policy_string

    analyzed = analyze_policy_string(json.dumps(document))
    return [f"{f.issue} {f.detail}" for f in analyzed.findings]


def parliament_issues(document: dict[str, Any]) -> set[str]:
    from parliament import analyze_policy_string

    return {f.issue for f in analyze_policy_string(json.dumps(document)).findings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the cases whose name contains this text")
    args = parser.parse_args()
    try:
        import parliament
    except ImportError:
        print("parliament is not installed: pip install -e '.[dev]'", file=sys.stderr)
        return 2
    rows: list[tuple[str, str, str]] = []
    times = {"ours": 0.0, "parliament": 0.0}
    for name, expected, document in CASES:
        if args.only and args.only not in name:
            continue
        start = time.process_time()
        mine = ours(document)
        codes = ours_codes(document)
        times["ours"] += time.process_time() - start
        start = time.process_time()
        theirs = parliament_findings(document)
        times["parliament"] += time.process_time() - start
        print(f"== {name}")
        print("   ours:       " + ("; ".join(mine) or "(nothing)"))
        print("   parliament: " + ("; ".join(theirs) or "(nothing)"))
        if expected is None:
            rows.append(
                (name, "clean" if not mine else "FALSE", "clean" if not theirs else "FALSE")
            )
        else:
            rows.append(
                (
                    name,
                    "caught" if expected in codes else "missed",
                    "caught"
                    if PARLIAMENT_ISSUE[expected] in parliament_issues(document)
                    else "missed",
                )
            )
    version = getattr(parliament, "__version__", "?")
    print(f"\n{'policy':<58} {'ours':<8} parliament {version}")
    for name, mine_row, theirs_row in rows:
        print(f"{name:<58} {mine_row:<8} {theirs_row}")
    caught = [sum(r[i] in ("caught", "clean") for r in rows) for i in (1, 2)]
    print(f"{'right':<58} {caught[0]}/{len(rows):<6} {caught[1]}/{len(rows)}")
    print(
        f"CPU time for all policies: ours {times['ours'] * 1000:.0f} ms (with loading the "
        f"reference), parliament {times['parliament'] * 1000:.0f} ms"
    )
    print(
        "caught = the tool reported the matching issue (parliament: "
        + ", ".join(sorted(set(PARLIAMENT_ISSUE.values())))
        + "); FALSE = a finding on a correct policy"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
