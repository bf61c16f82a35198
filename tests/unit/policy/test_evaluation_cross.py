"""Cross-account requests, role trust policies, key policies and NotPrincipal: the table.

Sources: [XA] IAM User Guide "Cross-account policy evaluation logic"; [TR] "IAM roles: trust
policies" and "How AWS enforcement code logic evaluates requests" (trust and key policies must
allow the caller); [KMS] AWS KMS Developer Guide "Key policies"; [NP] "AWS JSON policy elements:
NotPrincipal"; [PB], [SCP] as in test_evaluation.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from broker.policy import PolicySet, Request, evaluate
from tests.unit.policy.evaluation_fixtures import (
    ASSUME_ALLOWED,
    IDENTITY,
    OTHER_ROLE,
    OTHER_SESSION,
    ROOT,
    SCP_EC2,
    TARGET_ROLE,
    assume,
    resource_policy,
    session_ctx,
    trust,
)
from tests.unit.policy.helpers import (
    ACCOUNT,
    ALICE,
    OTHER,
    ROLE,
    SESSION,
    allow,
    decide,
    policy,
    request,
)

CASES: list[tuple[str, dict[str, Any], Request, str]] = [
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


@pytest.mark.parametrize("explain", [False, True])
def test_cross_account_follows_the_caller_arn_not_a_mismatched_account_field(explain) -> None:
    """[XA] An IAM caller's account is the one in its ARN: a request that names the resource's
    account as ``principal_account`` for a caller of another account must still be treated as
    cross-account (only the resource policy allowing it, no identity side: ImplicitDeny)."""
    outsider = f"arn:aws:iam::{OTHER}:user/mallory"
    policies = PolicySet(resource=[resource_policy({"AWS": outsider})])
    forged = request(principal=outsider, account=ACCOUNT, resource_account=ACCOUNT)
    assert evaluate(policies, forged, explain=explain).decision == "ImplicitDeny"
    honest = request(principal=outsider, account=OTHER, resource_account=ACCOUNT)
    assert evaluate(policies, honest, explain=explain).decision == "ImplicitDeny"


@pytest.mark.parametrize("explain", [False, True])
def test_principal_arn_context_cannot_make_a_session_another_roles(explain) -> None:
    """[NP]/[TR] A role session is its own role: ``aws:PrincipalArn`` only supplies the role's
    path. A context naming another role (or another account's role of the same name) must not
    let the session match a Principal that names that role."""
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice"
    admin = f"arn:aws:iam::{ACCOUNT}:role/ops/admin"
    elsewhere = f"arn:aws:iam::{OTHER}:role/ops/dev"
    for claimed in (admin, elsewhere):
        policies = PolicySet(resource=[resource_policy({"AWS": claimed})])
        req = request(principal=session, context={"aws:PrincipalArn": claimed})
        assert evaluate(policies, req, explain=explain).decision == "ImplicitDeny", claimed
    own = f"arn:aws:iam::{ACCOUNT}:role/ops/dev"
    policies = PolicySet(resource=[resource_policy({"AWS": own})])
    req = request(principal=session, context={"aws:PrincipalArn": own})
    assert evaluate(policies, req, explain=explain).decision == "Allow"


@pytest.mark.parametrize("explain", [False, True])
def test_federated_by_must_be_a_user_of_the_federated_users_account(explain) -> None:
    """GetFederationToken sessions belong to the calling IAM user's account: a ``federated_by``
    naming a user of another account must not pick up grants made to that user."""
    outsider = f"arn:aws:iam::{OTHER}:user/alice"
    policies = PolicySet(
        resource=[resource_policy({"AWS": outsider})],
        session=policy(allow("s3:*"), kind="session"),
    )
    federated = f"arn:aws:sts::{ACCOUNT}:federated-user/bob"
    req = request(principal=federated, federated_by=outsider)
    assert evaluate(policies, req, explain=explain).decision == "ImplicitDeny"
