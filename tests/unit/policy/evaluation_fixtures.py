"""Policies, principals and builders the evaluation tables share."""

from __future__ import annotations

from typing import Any

from broker.policy import Request
from tests.unit.policy.helpers import (
    ACCOUNT,
    OTHER,
    ROLE,
    allow,
    deny,
    policy,
    request,
)

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
FED_USER = f"arn:aws:sts::{ACCOUNT}:federated-user/alice"
OTHER_ROLE = f"arn:aws:iam::{OTHER}:role/ci"
OTHER_SESSION = f"arn:aws:sts::{OTHER}:assumed-role/ci/build"
TARGET_ROLE = f"arn:aws:iam::{ACCOUNT}:role/target"

IDENTITY = policy(allow())
DENY_ALL = policy(deny())
SCP_ALL = policy({"Effect": "Allow", "Action": "*", "Resource": "*"}, kind="scp")
SCP_EC2 = policy({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}, kind="scp")
SCP_DENY = policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}, kind="scp")
RCP_ALL = policy({"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}, kind="rcp")
RCP_SQS = policy(
    {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Resource": "*"}, kind="rcp"
)
RCP_DENY_OUTSIDE = policy(
    {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-example"}},
    },
    kind="rcp",
)


def resource_policy(principal: Any, effect: str = "Allow", kind: str = "resource", **extra: Any):
    statement = {"Effect": effect, "Principal": principal, "Action": "s3:GetObject", **extra}
    if kind != "trust":
        statement["Resource"] = "*"
    return policy(statement, kind=kind)


def trust(principal: Any, action: str = "sts:AssumeRole", **extra: Any):
    return policy(
        {"Effect": "Allow", "Principal": principal, "Action": action, **extra}, kind="trust"
    )


def assume(principal: str, account: str, **kw: Any) -> Request:
    return request("sts:AssumeRole", TARGET_ROLE, principal, account, ACCOUNT, **kw)


ASSUME_ALLOWED = policy(allow(action="sts:AssumeRole"))
session_ctx = {"aws:PrincipalArn": ROLE}
