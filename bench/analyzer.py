"""Access Analyzer benchmark: the SMT analyzer against a brute-force enumerator, in one run.

Usage: ``python bench/analyzer.py [--policies N] [--seed S]``.

Workload (deterministic): the demo organization's roles (read from ``config/`` through the
directory), then N generated trust and resource policies (half each) with wildcards, Deny and
NotPrincipal statements, and conditions on aws:PrincipalOrgID, aws:PrincipalAccount,
aws:PrincipalArn, aws:SourceIp, aws:SourceVpc and sts:ExternalId. Measured: total time and
per-policy median of ``analyze`` (zone: the organization), and of a brute-force enumerator on
the same policies over a small universe (outside callers x actions x resources x context
values, the engine as oracle), with the ratio. The brute force only samples a small universe
(it can miss access a solver finds, never the reverse); the run checks that every policy the
brute force finds open is reported open. Target: 1,000 policies in under 60 s.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broker.analyzer.external import analyze, witness_policies
from broker.analyzer.targets import Target, Zone, target_from_document
from broker.policy import PolicySet, Request, compile_policy_set

HOME, SIBLING, OUT1, OUT2 = "111111111111", "222222222222", "333333333333", "444444444444"
ORG = "o-example"
ZONE = Zone("organization", frozenset({HOME, SIBLING}), ORG)
ROLE = f"arn:aws:iam::{HOME}:role/target"
BUCKET = "arn:aws:s3:::example-bucket"
PRINCIPALS: list[Any] = [
    "*",
    {"AWS": OUT1},
    {"AWS": SIBLING},
    {"AWS": f"arn:aws:iam::{OUT1}:role/deploy"},
    {"AWS": [f"arn:aws:iam::{OUT2}:user/alice", SIBLING]},
    {"Federated": "cognito-identity.amazonaws.com"},
]
ACTIONS = ["*", "sts:AssumeRole", "s3:Get*", "s3:?utObject", "s3:*"]
RESOURCES = ["*", f"{BUCKET}/*", BUCKET, "arn:aws:s3:::*/logs/*"]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringEquals": {"aws:PrincipalAccount": [OUT1, SIBLING]}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
    {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}},
    {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"StringEquals": {"aws:SourceVpc": "vpc-1111"}},
    {"StringLike": {"sts:ExternalId": "ext-*"}},
    {"Null": {"aws:PrincipalOrgID": "true"}},
]


def generated(rng: random.Random, kind: str) -> dict[str, Any]:
    statements = []
    for index in range(rng.randint(1, 4)):
        effect = "Allow" if index == 0 or rng.random() < 0.6 else "Deny"
        statement: dict[str, Any] = {
            "Effect": effect,
            "Action": rng.sample(ACTIONS, rng.randint(1, 2)),
        }
        negate = kind == "resource" and effect == "Deny" and rng.random() < 0.3
        key = "NotPrincipal" if negate else "Principal"
        statement[key] = rng.choice(PRINCIPALS[1:] if key == "NotPrincipal" else PRINCIPALS)
        if kind == "resource":
            statement["Resource"] = rng.sample(RESOURCES, rng.randint(1, 2))
        block: dict[str, Any] = {}
        for condition in rng.sample(CONDITIONS, rng.randint(0, 2)):
            for operator, keys in condition.items():
                block.setdefault(operator, {}).update(keys)
        if block:
            statement["Condition"] = block
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def universe(kind: str) -> list[Request]:
    resources = [ROLE] if kind == "trust" else [BUCKET, f"{BUCKET}/a", f"{BUCKET}/logs/x"]
    callers: list[tuple[str, str, dict[str, str]]] = []
    for account in (OUT1, OUT2):
        role = f"arn:aws:iam::{account}:role/deploy"
        for arn, principal_arn in (
            (f"arn:aws:iam::{account}:root", f"arn:aws:iam::{account}:root"),
            (f"arn:aws:iam::{account}:user/alice", f"arn:aws:iam::{account}:user/alice"),
            (role, role),
            (f"arn:aws:sts::{account}:assumed-role/deploy/s", role),
        ):
            for org in (None, "o-other"):
                context = {"aws:PrincipalArn": principal_arn, "aws:PrincipalAccount": account}
                if org:
                    context["aws:PrincipalOrgID"] = org
                callers.append((arn, account, context))
    callers += [("cognito-identity.amazonaws.com", "", {}), ("anonymous", "", {})]
    out = []
    for arn, account, base in callers:
        for action in ("sts:AssumeRole", "s3:GetObject", "s3:PutObject"):
            for resource in resources:
                for ip in (None, "10.0.0.1", "203.0.113.5"):
                    for vpc in (None, "vpc-1111"):
                        for external_id in (None, "ext-1"):
                            context = dict(base)
                            if ip:
                                context["aws:SourceIp"] = ip
                            if vpc:
                                context["aws:SourceVpc"] = vpc
                            if external_id:
                                context["sts:ExternalId"] = external_id
                            out.append(Request(action, resource, arn, account, HOME, context))
    return out


def brute_force(target: Target, requests: list[Request]) -> bool:
    compiled = compile_policy_set(witness_policies(PolicySet(resource=[target.policy])))
    return any(compiled.evaluate(r).allowed for r in requests)


def demo_targets() -> tuple[list[Target], Zone]:
    from broker.analyzer.configured import directory_targets, organization_accounts
    from broker.sts.directory_state import open_directory

    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as home:
        os.chmod(home, 0o700)
        directory = open_directory(root / "config", Path(home), None)
        try:
            return directory_targets(directory), Zone(
                "organization", organization_accounts(directory)
            )
        finally:
            directory.close()


def timed(function: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    targets, zone = demo_targets()
    results, elapsed = timed(lambda: [analyze(t, zone) for t in targets])
    counts = {s: sum(r.status == s for r in results) for s in ("external", "none", "undecided")}
    print(f"demo organization: {len(targets)} roles in {elapsed:.2f} s  {counts}")

    rng = random.Random(args.seed)
    kinds = ["trust", "resource"]
    policies = [
        target_from_document(
            f"p{i}",
            kinds[i % 2],
            ROLE if i % 2 == 0 else BUCKET,
            HOME,
            generated(rng, kinds[i % 2]),
        )
        for i in range(args.policies)
    ]
    requests = {kind: universe(kind) for kind in kinds}
    smt_times, brute_times, statuses = [], [], []
    missed = 0
    for target in policies:
        analysis, smt = timed(analyze, target, ZONE)
        opened, brute = timed(brute_force, target, requests[target.kind])
        smt_times.append(smt)
        brute_times.append(brute)
        statuses.append(analysis.status)
        missed += opened and analysis.status != "external"
    total_smt, total_brute = sum(smt_times), sum(brute_times)
    print(
        f"generated: {len(policies)} policies  external={statuses.count('external')} "
        f"none={statuses.count('none')} undecided={statuses.count('undecided')}"
    )
    median = statistics.median(smt_times) * 1e3
    print(
        f"  analyzer (SMT):  total {total_smt:.2f} s  median {median:.1f} ms"
        f"  max {max(smt_times) * 1e3:.0f} ms"
    )
    print(
        f"  brute force ({len(requests['resource'])} requests/policy): total {total_brute:.2f} s"
        f"  median {statistics.median(brute_times) * 1e3:.1f} ms"
    )
    print(f"  ratio analyzer/brute force: {total_smt / total_brute:.2f}x")
    print(f"  target 1,000 policies < 60 s: {'met' if total_smt < 60 else 'NOT met'}")
    print(f"  policies open to brute force but not reported by the analyzer: {missed}")
    if missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
