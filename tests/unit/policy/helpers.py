"""Small builders for policy tests: documents, requests and one-shot decisions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from broker.policy import Policy, PolicySet, Request, evaluate, parse_policy

ACCOUNT = "111122223333"
OTHER = "444455556666"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/dev"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice"
BUCKET = "arn:aws:s3:::example-bucket"
OBJECT = f"{BUCKET}/reports/q1.csv"


def doc(*statements: Mapping[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    out: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        out["Version"] = version
    return out


def allow(action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any = "s3:GetObject", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def policy(*statements: Mapping[str, Any], kind: str = "identity", **kw: Any) -> Policy:
    return parse_policy(doc(*statements, **kw), kind=kind)  # type: ignore[arg-type]


def request(
    action: str = "s3:GetObject",
    resource: str = OBJECT,
    principal: str = ALICE,
    account: str = ACCOUNT,
    resource_account: str = ACCOUNT,
    context: Mapping[str, Any] | None = None,
    federated_by: str | None = None,
) -> Request:
    return Request(
        action, resource, principal, account, resource_account, dict(context or {}), federated_by
    )


def decide(policies: PolicySet | None = None, req: Request | None = None, **sets: Any) -> str:
    chosen = policies if policies is not None else PolicySet(**sets)
    return evaluate(chosen, req or request()).decision


def holds(
    condition: Mapping[str, Any], context: Mapping[str, Any], version: str = "2012-10-17"
) -> bool:
    """Whether an Allow statement with ``condition`` applies (everything else matches)."""
    p = policy(allow(Condition=dict(condition)), version=version)
    return decide(PolicySet(identity=[p]), request(context=context)) == "Allow"


def seq(*items: Any) -> Sequence[Any]:
    return list(items)
