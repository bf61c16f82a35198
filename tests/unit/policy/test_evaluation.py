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

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
FED_USER = f"arn:aws:sts::{ACCOUNT}:federated-user/alice"
OTHER_ROLE = f"arn:aws:iam::{OTHER}:role/ci"
OTHER_SESSION = f"arn:aws:sts::{OTHER}:assumed-role/ci/build"
TARGET_ROLE = f"arn:aws:iam::{ACCOUNT}:role/target"

IDENTITY = policy(allow())
NOTHING = policy(allow(action="ec2:DescribeInstances"))  # allows something else
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
        "[XA] cross-account: identity allows but no resource policy",
        {"identity": [IDENTITY]},
        request(resource_account=OTHER),
        "ImplicitDeny",
    ),
    (
        "[XA] cross-account: the resource policy alone is not enough",
        {"resource": [resource_policy({"AWS": ALICE})]},
        request(resource_account=OTHER),
        "ImplicitDeny",
    ),
    (
        "[XA] cross-account: both sides allow",
        {"identity": [IDENTITY], "resource": [resource_policy({"AWS": ALICE})]},
        request(resource_account=OTHER),
        "Allow",
    ),
    (
        "[XA] cross-account: the resource policy may name the caller's account",
        {"identity": [IDENTITY], "resource": [resource_policy({"AWS": ACCOUNT})]},
        request(resource_account=OTHER),
        "Allow",
    ),
    (
        "[XA][PB] cross-account: the caller's boundary still applies to a session grant",
        {
            "identity": [IDENTITY],
            "resource": [resource_policy({"AWS": SESSION})],
            "boundary": policy(allow(action="ec2:*"), kind="boundary"),
        },
        request(principal=SESSION, context=session_ctx, resource_account=OTHER),
        "ImplicitDeny",
    ),
    (
        "[XA][SCP] cross-account: the caller's SCPs apply",
        {
            "identity": [IDENTITY],
            "resource": [resource_policy({"AWS": ALICE})],
            "scp_hierarchy": [[SCP_EC2]],
        },
        request(resource_account=OTHER),
        "ImplicitDeny",
    ),
    (
        "[TR] same account: a trust policy naming the user suffices",
        {"resource": [trust({"AWS": ALICE})]},
        assume(ALICE, ACCOUNT),
        "Allow",
    ),
    (
        "[TR] same account: a trust policy naming the account needs an identity Allow",
        {"resource": [trust({"AWS": ACCOUNT})]},
        assume(ALICE, ACCOUNT),
        "ImplicitDeny",
    ),
    (
        "[TR] same account: trust names the account and the identity policy allows",
        {"resource": [trust({"AWS": ACCOUNT})], "identity": [ASSUME_ALLOWED]},
        assume(ALICE, ACCOUNT),
        "Allow",
    ),
    (
        "[TR][DA] an identity Allow is not enough when the trust policy does not name the caller",
        {
            "resource": [trust({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"})],
            "identity": [ASSUME_ALLOWED],
        },
        assume(ALICE, ACCOUNT),
        "ImplicitDeny",
    ),
    (
        "[TR][XA] cross-account AssumeRole needs the caller's identity side too",
        {"resource": [trust({"AWS": OTHER_ROLE})]},
        assume(OTHER_SESSION, OTHER, context={"aws:PrincipalArn": OTHER_ROLE}),
        "ImplicitDeny",
    ),
    (
        "[TR][XA] cross-account AssumeRole with both sides",
        {"resource": [trust({"AWS": OTHER_ROLE})], "identity": [ASSUME_ALLOWED]},
        assume(OTHER_SESSION, OTHER, context={"aws:PrincipalArn": OTHER_ROLE}),
        "Allow",
    ),
    (
        "[TR] web identity: the trust policy decides, with its conditions",
        {
            "resource": [
                trust(
                    {"Federated": "cognito-identity.amazonaws.com"},
                    "sts:AssumeRoleWithWebIdentity",
                    Condition={
                        "StringEquals": {"cognito-identity.amazonaws.com:aud": "eu-west-1:pool"}
                    },
                )
            ]
        },
        request(
            "sts:AssumeRoleWithWebIdentity",
            TARGET_ROLE,
            "cognito-identity.amazonaws.com",
            "",
            ACCOUNT,
            {"cognito-identity.amazonaws.com:aud": "eu-west-1:pool"},
        ),
        "Allow",
    ),
    (
        "[TR] web identity: a failed trust condition denies",
        {
            "resource": [
                trust(
                    {"Federated": "cognito-identity.amazonaws.com"},
                    "sts:AssumeRoleWithWebIdentity",
                    Condition={
                        "StringEquals": {"cognito-identity.amazonaws.com:aud": "eu-west-1:pool"}
                    },
                )
            ]
        },
        request(
            "sts:AssumeRoleWithWebIdentity",
            TARGET_ROLE,
            "cognito-identity.amazonaws.com",
            "",
            ACCOUNT,
            {"cognito-identity.amazonaws.com:aud": "other"},
        ),
        "ImplicitDeny",
    ),
    (
        "[TR] a service principal",
        {"resource": [trust({"Service": "ec2.amazonaws.com"})]},
        request("sts:AssumeRole", TARGET_ROLE, "ec2.amazonaws.com", "", ACCOUNT),
        "Allow",
    ),
    (
        "[KMS] a key policy naming the account enables IAM policies",
        {"resource": [resource_policy({"AWS": ACCOUNT}, kind="key")], "identity": [IDENTITY]},
        request(),
        "Allow",
    ),
    (
        "[KMS] a key policy naming the account: no IAM policy, no access",
        {"resource": [resource_policy({"AWS": ACCOUNT}, kind="key")]},
        request(),
        "ImplicitDeny",
    ),
    (
        "[KMS][DA] without the key policy's allow, IAM policies are not enough",
        {
            "resource": [resource_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, kind="key")],
            "identity": [IDENTITY],
        },
        request(),
        "ImplicitDeny",
    ),
    (
        "[KMS] even the root user needs the key policy",
        {"resource": [resource_policy({"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, kind="key")]},
        request(principal=ROOT),
        "ImplicitDeny",
    ),
    (
        "[NP] Deny with NotPrincipal exempts a user listed with its account",
        {
            "identity": [IDENTITY],
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
        "Allow",
    ),
    (
        "[NP] listing the user without its account does not exempt it",
        {
            "identity": [IDENTITY],
            "resource": [
                policy(
                    {
                        "Effect": "Deny",
                        "NotPrincipal": {"AWS": [ALICE]},
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
        "[NP] a role session is exempt only with account, role and session listed",
        {
            "identity": [IDENTITY],
            "resource": [
                policy(
                    {
                        "Effect": "Deny",
                        "NotPrincipal": {"AWS": [ROLE, ACCOUNT]},
                        "Action": "s3:*",
                        "Resource": "*",
                    },
                    kind="resource",
                )
            ],
        },
        request(principal=SESSION, context=session_ctx),
        "ExplicitDeny",
    ),
    (
        "[NP] a role session listed with account, role and session",
        {
            "identity": [IDENTITY],
            "resource": [
                policy(
                    {
                        "Effect": "Deny",
                        "NotPrincipal": {"AWS": [ROLE, ACCOUNT, SESSION]},
                        "Action": "s3:*",
                        "Resource": "*",
                    },
                    kind="resource",
                )
            ],
        },
        request(principal=SESSION, context=session_ctx),
        "Allow",
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


def test_explanation_names_the_failed_condition_and_reason() -> None:
    from broker.policy import evaluate

    p = policy(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    decision = evaluate(PolicySet(identity=[p]), request(context={"aws:SourceIp": "192.0.2.1"}))
    assert decision.decision == "ImplicitDeny"
    identity = next(e for e in decision.explanation if e["layer"] == "identity")
    (statement,) = identity["statements"]
    assert statement["applies"] is False
    assert "IpAddress aws:SourceIp" in statement["reason"] and "192.0.2.1" in statement["reason"]
    final = decision.explanation[-1]
    assert final["layer"] == "decision" and "no identity-based policy" in final["reason"]


def test_explanation_lists_every_layer_in_order() -> None:
    from broker.policy import evaluate

    sets = PolicySet(
        identity=[IDENTITY],
        resource=[resource_policy({"AWS": ALICE})],
        boundary=policy(allow(), kind="boundary"),
        scp_hierarchy=[[SCP_ALL], [SCP_ALL]],
    )
    decision = evaluate(sets, request())
    layers = [e["layer"] for e in decision.explanation]
    assert layers == ["scp[0]", "scp[1]", "resource", "identity", "boundary", "session", "decision"]
    assert decision.allowed and decision.explanation[-1]["decision"] == "Allow"


def test_explicit_deny_explanation_points_at_the_statement() -> None:
    from broker.policy import evaluate

    denier = policy(deny(Sid="NoReports"))
    decision = evaluate(PolicySet(identity=[IDENTITY, denier]), request())
    identity = next(e for e in decision.explanation if e["layer"] == "identity")
    assert identity["result"] == "ExplicitDeny"
    assert {"policy": 1, "sid": "NoReports", "applies": True}.items() <= next(
        s for s in identity["statements"] if s["effect"] == "Deny"
    ).items()


def test_explanation_after_an_scp_implicit_deny_still_shows_the_other_layers() -> None:
    from broker.policy import evaluate

    decision = evaluate(PolicySet(identity=[IDENTITY], scp_hierarchy=[[SCP_EC2]]), request())
    assert decision.decision == "ImplicitDeny"
    by_layer = {e["layer"]: e for e in decision.explanation}
    assert by_layer["scp[0]"]["result"] == "NoMatch"
    assert by_layer["identity"]["result"] == "Allow"
    assert "scp[0]: no SCP at this level allows" in by_layer["decision"]["reason"]


def test_explanation_says_why_a_layer_does_not_apply() -> None:
    from broker.policy import evaluate

    sets = PolicySet(identity=[IDENTITY], scp_hierarchy=[[SCP_DENY]], management_account=True)
    by_layer = {e["layer"]: e for e in evaluate(sets, request()).explanation}
    assert by_layer["scp[0]"]["applies"] is False
    assert "management account" in by_layer["scp[0]"]["note"]
    federated = evaluate(PolicySet(identity=[IDENTITY]), request(principal=FED_USER))
    fed = {e["layer"]: e for e in federated.explanation}
    assert "federated user without a session policy" in fed["session"]["note"]
