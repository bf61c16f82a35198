"""Documented traps of IAM evaluation, each decided by our engine and by PMapper.

Each case is one the IAM User Guide documents and an evaluator can easily get wrong; ours must
decide every one as documented (the benchmark stops otherwise), and the count PMapper gets
right is printed beside it. Used by ``bench/policy.py``.
"""

from __future__ import annotations

from typing import Any

from broker.policy import PolicySet, Request, evaluate, parse_policy

__all__ = ["traps"]

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"


# Documented traps: (what, identity doc, bucket policy or None, boundary or None, caller role?,
# resource, context, the decision the IAM User Guide documents).
_S3_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}
_EC2_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}],
}
_ROLE = f"arn:aws:iam::{ACCOUNT}:role/dev"


def _allow(resource: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


TRAPS: list[
    tuple[
        str,
        dict[str, Any],
        dict[str, Any] | None,
        dict[str, Any] | None,
        bool,
        str,
        dict[str, Any],
        bool,
    ]
] = [
    (
        "resource ARNs are case-sensitive",
        _allow("arn:aws:s3:::Example-Bucket/*"),
        None,
        None,
        False,
        "arn:aws:s3:::example-bucket/k",
        {},
        False,
    ),
    (
        "a bucket policy naming the role is still bounded by the role's boundary",
        _EC2_ONLY,
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": _ROLE}, "Action": "s3:*", "Resource": "*"}
            ],
        },
        _EC2_ONLY,
        True,
        "arn:aws:s3:::example-bucket/k",
        {},
        False,
    ),
    (
        "ForAnyValue with a missing key is false",
        _allow("*", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}),
        None,
        None,
        False,
        "arn:aws:s3:::example-bucket/k",
        {},
        False,
    ),
    (
        "an absent policy variable makes the statement not match",
        _allow("arn:aws:s3:::example-bucket/${aws:PrincipalTag/team}/*"),
        None,
        None,
        False,
        "arn:aws:s3:::example-bucket//k",
        {},
        False,
    ),
    (
        "StringNotEquals over several values means none of them",
        _allow("*", {"StringNotEquals": {"aws:PrincipalTag/team": ["red", "blue"]}}),
        None,
        None,
        False,
        "arn:aws:s3:::example-bucket/k",
        {"aws:PrincipalTag/team": "blue"},
        False,
    ),
    (
        "control: a resource wildcard spans '/' (allowed)",
        _allow("arn:aws:s3:::example-bucket/*"),
        None,
        None,
        False,
        "arn:aws:s3:::example-bucket/k",
        {},
        True,
    ),
]


def traps() -> tuple[int, int, list[str]]:
    """How many documented traps PMapper gets wrong (ours must get every one right)."""
    from principalmapper.common import Node, Policy
    from principalmapper.querying.query_interface import local_check_authorization_full

    wrong: list[str] = []
    for what, identity, bucket, boundary, as_role, resource, context, documented in TRAPS:
        arn = _ROLE if as_role else USER
        caller = f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/s" if as_role else USER
        ctx = {**context, **({"aws:PrincipalArn": _ROLE} if as_role else {})}
        ours = evaluate(
            PolicySet(
                identity=[parse_policy(identity)],
                resource=[parse_policy(bucket, kind="resource")] if bucket else [],
                boundary=parse_policy(boundary, kind="boundary") if boundary else None,
            ),
            Request("s3:GetObject", resource, caller, ACCOUNT, ACCOUNT, ctx),
        ).allowed
        assert ours == documented, f"ours is wrong on: {what}"
        node = Node(
            arn,
            "AIDAEXAMPLE",
            [Policy(f"{arn}-policy", "p", identity)],
            [],
            {"Version": "2012-10-17", "Statement": []} if as_role else None,
            None,
            0,
            False,
            False,
            Policy("b", "b", boundary) if boundary else None,
            False,
            {},
        )
        theirs = local_check_authorization_full(
            node,
            "s3:GetObject",
            resource,
            dict(context),
            bucket,
            ACCOUNT if bucket else None,
            None,
            None,
        )
        if theirs != documented:
            wrong.append(what)
    return len(TRAPS), len(TRAPS) - len(wrong), wrong
