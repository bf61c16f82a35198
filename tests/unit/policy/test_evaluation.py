"""The evaluation flow, one table row per documented rule.

Sources (IAM User Guide), cited per row:
[DA] "How AWS enforcement code logic evaluates requests to allow or deny access"
[RB] same page, "Resource-based policies" (differences by principal type)
[PB] "Permissions boundaries for IAM entities"
[SP] "Session policies"
[SCP] AWS Organizations User Guide, "SCP evaluation"
[XA] "Cross-account policy evaluation logic"
[TR] "IAM roles: trust policies" / [DA] "role trust policies and KMS key policies are exceptions"
[KMS] AWS KMS Developer Guide, "Key policies: allows access to the AWS account and enables IAM
      policies"
[NP] "AWS JSON policy elements: NotPrincipal"
[RCP] AWS Organizations User Guide, "Resource control policies (RCPs)" and "RCP evaluation"
"""

from __future__ import annotations

from typing import Any

import pytest

from broker.policy import PolicySet, Request
from tests.unit.policy.evaluation_fixtures import (
    DENY_ALL,
    FED_USER,
    IDENTITY,
    RCP_ALL,
    RCP_DENY_OUTSIDE,
    RCP_SQS,
    ROOT,
    SCP_ALL,
    SCP_DENY,
    SCP_EC2,
    resource_policy,
    session_ctx,
)
from tests.unit.policy.helpers import (
    ACCOUNT,
    ALICE,
    OTHER,
    ROLE,
    SESSION,
    allow,
    decide,
    deny,
    policy,
    request,
)

CASES: list[tuple[str, dict[str, Any], Request, str]] = [
    ("[DA] by default every request is implicitly denied", {}, request(), "ImplicitDeny"),
    ("[DA] an identity-based Allow allows", {"identity": [IDENTITY]}, request(), "Allow"),
    (
        "[DA] an explicit Deny overrides an Allow",
        {"identity": [IDENTITY, DENY_ALL]},
        request(),
        "ExplicitDeny",
    ),
    (
        "[DA] a Deny in a resource-based policy overrides an identity Allow",
        {"identity": [IDENTITY], "resource": [resource_policy("*", "Deny")]},
        request(),
        "ExplicitDeny",
    ),
    (
        "[DA] a Deny in a permissions boundary is explicit",
        {"identity": [IDENTITY], "boundary": policy(deny(), kind="boundary")},
        request(),
        "ExplicitDeny",
    ),
    (
        "[DA] a Deny in a session policy is explicit",
        {"identity": [IDENTITY], "session": policy(deny(), kind="session")},
        request(principal=SESSION, context=session_ctx),
        "ExplicitDeny",
    ),
    (
        "[SCP] a Deny in an SCP is explicit",
        {"identity": [IDENTITY], "scp_hierarchy": [[SCP_ALL, SCP_DENY]]},
        request(),
        "ExplicitDeny",
    ),
    (
        "[SCP] every level must allow: an OU that allows only ec2 blocks s3",
        {"identity": [IDENTITY], "scp_hierarchy": [[SCP_ALL], [SCP_EC2], [SCP_ALL]]},
        request(),
        "ImplicitDeny",
    ),
    (
        "[SCP] allowed at every level and by the identity policy",
        {"identity": [IDENTITY], "scp_hierarchy": [[SCP_ALL], [SCP_ALL]]},
        request(),
        "Allow",
    ),
    ("[SCP] SCPs never grant", {"scp_hierarchy": [[SCP_ALL]]}, request(), "ImplicitDeny"),
    (
        "[SCP] SCPs bind a member account's root user",
        {"scp_hierarchy": [[SCP_EC2]]},
        request(principal=ROOT),
        "ImplicitDeny",
    ),
    ("[DA] the root user has full access in its own account", {}, request(principal=ROOT), "Allow"),
    (
        "[RCP] an RCP Deny binds callers from outside the organization",
        {"resource": [resource_policy("*")], "rcp_hierarchy": [[RCP_ALL, RCP_DENY_OUTSIDE]]},
        request(principal=f"arn:aws:iam::{OTHER}:user/mallory", account=OTHER),
        "ExplicitDeny",
    ),
    (
        "[RCP] an RCP Deny binds anonymous callers",
        {"resource": [resource_policy("*")], "rcp_hierarchy": [[RCP_ALL, RCP_DENY_OUTSIDE]]},
        request(principal="", account=""),
        "ExplicitDeny",
    ),
    (
        "[RCP] the condition exempts principals of the organization",
        {"identity": [IDENTITY], "rcp_hierarchy": [[RCP_ALL, RCP_DENY_OUTSIDE]]},
        request(context={"aws:PrincipalOrgID": "o-example"}),
        "Allow",
    ),
    (
        "[RCP] every level must allow (an OU allowing only sqs blocks s3)",
        {"identity": [IDENTITY], "rcp_hierarchy": [[RCP_ALL], [RCP_SQS]]},
        request(),
        "ImplicitDeny",
    ),
    (
        "[RCP] RCPs never grant",
        {"rcp_hierarchy": [[RCP_ALL]]},
        request(),
        "ImplicitDeny",
    ),
    (
        "[RCP] RCPs do not affect resources in the management account",
        {
            "identity": [IDENTITY],
            "rcp_hierarchy": [[RCP_ALL], [RCP_SQS]],
            "resource_management_account": True,
        },
        request(),
        "Allow",
    ),
    (
        "[RCP] RCPs do not apply to service-linked roles",
        {"identity": [IDENTITY], "rcp_hierarchy": [[RCP_SQS]]},
        request(
            principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForExample/s",
            context={
                "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/"
                "example.amazonaws.com/AWSServiceRoleForExample"
            },
        ),
        "Allow",
    ),
    (
        "[SCP] SCPs do not apply to service-linked roles",
        {"identity": [IDENTITY], "scp_hierarchy": [[SCP_EC2]]},
        request(
            principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSServiceRoleForExample/s",
            context={
                "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/"
                "example.amazonaws.com/AWSServiceRoleForExample"
            },
        ),
        "Allow",
    ),
    (
        "[SCP] SCPs do not apply to the management account",
        {
            "identity": [IDENTITY],
            "scp_hierarchy": [[SCP_ALL, SCP_DENY]],
            "management_account": True,
        },
        request(),
        "Allow",
    ),
    (
        "[RB] a grant to an IAM user ARN needs no identity policy",
        {"resource": [resource_policy({"AWS": ALICE})]},
        request(),
        "Allow",
    ),
    (
        "[RB][PB] a grant to an IAM user ARN is not limited by the boundary's implicit deny",
        {
            "resource": [resource_policy({"AWS": ALICE})],
            "boundary": policy(allow(action="ec2:*"), kind="boundary"),
        },
        request(),
        "Allow",
    ),
    (
        "[RB] a grant to a role ARN allows the role's sessions",
        {"resource": [resource_policy({"AWS": ROLE})]},
        request(principal=SESSION, context=session_ctx),
        "Allow",
    ),
    (
        "[RB][PB] a grant to a role ARN is limited by the boundary's implicit deny",
        {
            "resource": [resource_policy({"AWS": ROLE})],
            "boundary": policy(allow(action="ec2:*"), kind="boundary"),
        },
        request(principal=SESSION, context=session_ctx),
        "ImplicitDeny",
    ),
    (
        "[RB][PB] a grant to the role-session ARN is not limited by the boundary",
        {
            "resource": [resource_policy({"AWS": SESSION})],
            "boundary": policy(allow(action="ec2:*"), kind="boundary"),
        },
        request(principal=SESSION, context=session_ctx),
        "Allow",
    ),
    (
        "[RB][SP] a grant to a role ARN is limited by the session policy",
        {
            "resource": [resource_policy({"AWS": ROLE})],
            "session": policy(allow(action="ec2:*"), kind="session"),
        },
        request(principal=SESSION, context=session_ctx),
        "ImplicitDeny",
    ),
    (
        "[RB][SP] a grant to the session ARN is not limited by the session policy",
        {
            "resource": [resource_policy({"AWS": SESSION})],
            "session": policy(allow(action="ec2:*"), kind="session"),
        },
        request(principal=SESSION, context=session_ctx),
        "Allow",
    ),
    (
        "[RB] a role ARN with a path is matched through aws:PrincipalArn",
        {"resource": [resource_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:role/team/dev"})]},
        request(
            principal=SESSION, context={"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/team/dev"}
        ),
        "Allow",
    ),
    (
        "[RB] a grant to the account only delegates to identity policies",
        {"resource": [resource_policy({"AWS": ACCOUNT})]},
        request(),
        "ImplicitDeny",
    ),
    (
        "[RB] a grant to the account plus an identity Allow",
        {
            "resource": [resource_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})],
            "identity": [IDENTITY],
        },
        request(),
        "Allow",
    ),
    (
        "[RB] Principal * grants in-account callers",
        {"resource": [resource_policy("*")]},
        request(),
        "Allow",
    ),
    (
        "[RB] Principal * grants anonymous callers",
        {"resource": [resource_policy("*")]},
        request(principal="", account=""),
        "Allow",
    ),
    (
        "[DA] an anonymous caller has only resource policies",
        {"identity": [IDENTITY]},
        request(principal="", account=""),
        "ImplicitDeny",
    ),
    (
        "[PB] identity allows, boundary does not",
        {"identity": [IDENTITY], "boundary": policy(allow(action="ec2:*"), kind="boundary")},
        request(),
        "ImplicitDeny",
    ),
    (
        "[PB] a boundary never grants",
        {"boundary": policy(allow(), kind="boundary")},
        request(),
        "ImplicitDeny",
    ),
    (
        "[PB] identity and boundary both allow",
        {"identity": [IDENTITY], "boundary": policy(allow(), kind="boundary")},
        request(),
        "Allow",
    ),
    (
        "[PB] NotPrincipal with Deny always denies a principal that has a boundary",
        {
            "identity": [IDENTITY],
            "boundary": policy(allow(), kind="boundary"),
            "resource": [
                policy(
                    {
                        "Effect": "Deny",
                        "NotPrincipal": {"AWS": [ALICE, ACCOUNT]},
                        "Action": "s3:*",
                        "Resource": "*",
                    },
                    kind="resource",
                )
            ],
        },
        request(),
        "ExplicitDeny",
    ),
    (
        "[SP] a role session: identity allows, session policy does not",
        {"identity": [IDENTITY], "session": policy(allow(action="ec2:*"), kind="session")},
        request(principal=SESSION, context=session_ctx),
        "ImplicitDeny",
    ),
    (
        "[SP] a role session without a session policy has the role's permissions",
        {"identity": [IDENTITY]},
        request(principal=SESSION, context=session_ctx),
        "Allow",
    ),
    (
        "[SP] a session policy never grants",
        {"session": policy(allow(), kind="session")},
        request(principal=SESSION, context=session_ctx),
        "ImplicitDeny",
    ),
    (
        "[SP] a federated user without a session policy has no permissions",
        {"identity": [IDENTITY]},
        request(principal=FED_USER),
        "ImplicitDeny",
    ),
    (
        "[SP] a federated user: identity and session policy allow",
        {"identity": [IDENTITY], "session": policy(allow(), kind="session")},
        request(principal=FED_USER),
        "Allow",
    ),
    (
        "[RB] a grant to the federated-user ARN is final",
        {"resource": [resource_policy({"AWS": FED_USER})]},
        request(principal=FED_USER),
        "Allow",
    ),
    (
        "[RB] a grant to the IAM user who federated is bounded by the session policy",
        {
            "resource": [resource_policy({"AWS": ALICE})],
            "identity": [IDENTITY],
            "session": policy(allow(action="ec2:*"), kind="session"),
        },
        request(principal=FED_USER, federated_by=ALICE),
        "ImplicitDeny",
    ),
    (
        "[RB] a grant to the IAM user who federated, within the session policy",
        {
            "resource": [resource_policy({"AWS": ALICE})],
            "session": policy(allow(), kind="session"),
        },
        request(principal=FED_USER, federated_by=ALICE),
        "Allow",
    ),
    (
        "[RB] a grant to the IAM user who federated is bounded by the boundary",
        {
            "resource": [resource_policy({"AWS": ALICE})],
            "session": policy(allow(), kind="session"),
            "boundary": policy(allow(action="ec2:*"), kind="boundary"),
        },
        request(principal=FED_USER, federated_by=ALICE),
        "ImplicitDeny",
    ),
    (
        "[RB] a resource policy's Principal must name the caller",
        {"resource": [resource_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"})]},
        request(),
        "ImplicitDeny",
    ),
]


@pytest.mark.parametrize(("section", "sets", "req", "expected"), CASES, ids=[c[0] for c in CASES])
def test_evaluation_rule(section: str, sets: dict[str, Any], req: Request, expected: str) -> None:
    assert decide(PolicySet(**sets), req) == expected, section


@pytest.mark.parametrize(("section", "sets", "req", "expected"), CASES, ids=[c[0] for c in CASES])
def test_fast_path_agrees(section: str, sets: dict[str, Any], req: Request, expected: str) -> None:
    from broker.policy import compile_policy_set

    compiled = compile_policy_set(PolicySet(**sets))
    fast = compiled.evaluate(req, explain=False)
    assert fast.decision == expected and fast.allowed == (expected == "Allow"), section
    assert fast.explanation == []
