"""The demo organization decides sensibly when its roles, boundaries and SCPs are evaluated by
the policy engine: what the directory hands STS is enough to reach AWS's decisions."""

from __future__ import annotations

import pytest

from broker.policy import PolicySet, Request, evaluate, parse_policy

from .test_demo import claims_of


def decide(directory, person, account, permission_set, action, resource="*", **context):
    (assignment,) = [
        a
        for a in directory.assignments_for(claims_of(person))
        if a.account_name == account and a.permission_set == permission_set
    ]
    role = directory.role(assignment.account_id, assignment.role_name)
    user = directory.resolve_user(claims_of(person))
    tags = {f"aws:PrincipalTag/{k}": v for k, v in directory.principal_tags(user).items()}
    policies = PolicySet(
        identity=[parse_policy(doc) for doc in role.permission_policies],
        boundary=(
            parse_policy(role.permissions_boundary, kind="boundary")
            if role.permissions_boundary
            else None
        ),
        scp_hierarchy=[
            [parse_policy(doc, kind="scp") for doc in level]
            for level in directory.scp_hierarchy(assignment.account_id)
        ],
        management_account=directory.is_management_account(assignment.account_id),
    )
    account_id = assignment.account_id
    request = Request(
        action,
        resource,
        f"arn:aws:sts::{account_id}:assumed-role/{role.name}/{person}",
        account_id,
        account_id,
        {"aws:PrincipalArn": role.arn, **tags, **context},
    )
    return evaluate(policies, request).decision


@pytest.fixture
def directory(open_directory):
    return open_directory()


def test_mallory_runs_small_project_instances_in_ireland_only(directory) -> None:
    run = {
        "aws:RequestTag/project": "atlas",
        "ec2:InstanceType": "t3.micro",
    }
    instance = "arn:aws:ec2:eu-west-1:777777777777:instance/*"
    args = (directory, "mallory", "contractor-sandbox", "ContractorDeveloper", "ec2:RunInstances")
    assert decide(*args, instance, **run, **{"aws:RequestedRegion": "eu-west-1"}) == "Allow"
    # The SCP bites: the permission set allows it, the region guardrail does not.
    assert decide(*args, instance, **run, **{"aws:RequestedRegion": "us-east-1"}) == "ExplicitDeny"
    big = {**run, "ec2:InstanceType": "m5.24xlarge", "aws:RequestedRegion": "eu-west-1"}
    assert decide(*args, instance, **big) == "ExplicitDeny"
    other_project = {**run, "aws:RequestTag/project": "zephyr", "aws:RequestedRegion": "eu-west-1"}
    assert decide(*args, instance, **other_project) == "ImplicitDeny"


def test_admins_cannot_leave_the_organization_except_from_management(directory) -> None:
    leave = "organizations:LeaveOrganization"
    assert decide(directory, "alice", "payments-prod", "AdministratorAccess", leave) == (
        "ExplicitDeny"
    )
    assert decide(directory, "alice", "management", "AdministratorAccess", leave) == "Allow"


def test_workloads_are_fenced_to_approved_regions(directory) -> None:
    args = (directory, "alice", "payments-prod", "AdministratorAccess", "ec2:RunInstances")
    assert decide(*args, **{"aws:RequestedRegion": "eu-central-1"}) == "Allow"
    assert decide(*args, **{"aws:RequestedRegion": "ap-southeast-2"}) == "ExplicitDeny"
    # Global services are exempt from the region fence.
    assert (
        decide(
            directory,
            "alice",
            "payments-prod",
            "AdministratorAccess",
            "iam:ListRoles",
            **{"aws:RequestedRegion": "us-west-2"},
        )
        == "Allow"
    )


def test_data_scientists_are_bounded(directory) -> None:
    args = (directory, "carol", "data-platform", "DataScientist")
    lake = "arn:aws:s3:::example-data-lake/raw/2026/part-0001.parquet"
    assert decide(*args, "s3:GetObject", lake, **{"aws:RequestedRegion": "eu-west-1"}) == "Allow"
    own = "arn:aws:s3:::example-workspaces/data/notebook.ipynb"
    assert decide(*args, "s3:PutObject", own, **{"aws:RequestedRegion": "eu-west-1"}) == "Allow"
    elsewhere = "arn:aws:s3:::example-workspaces/payments/notebook.ipynb"
    assert (
        decide(*args, "s3:PutObject", elsewhere, **{"aws:RequestedRegion": "eu-west-1"})
        == "ImplicitDeny"
    )


def test_on_call_needs_mfa(directory) -> None:
    args = (directory, "grace", "payments-prod", "OnCallOperator", "ecs:UpdateService")
    region = {"aws:RequestedRegion": "eu-west-1"}
    assert decide(*args, **region, **{"aws:MultiFactorAuthPresent": True}) == "Allow"
    assert decide(*args, **region, **{"aws:MultiFactorAuthPresent": False}) == "ExplicitDeny"


def test_security_tooling_cannot_be_switched_off_even_by_admins(directory) -> None:
    args = (directory, "judy", "log-archive", "AdministratorAccess", "cloudtrail:StopLogging")
    assert decide(*args, **{"aws:RequestedRegion": "eu-west-1"}) == "ExplicitDeny"


def test_ci_deployer_assumes_the_staging_deploy_role_with_its_external_id(directory) -> None:
    user = directory.user("ci-deployer")
    role = directory.role("444444444445", "ci-deploy")
    policies = PolicySet(
        identity=[parse_policy(doc) for doc in directory.identity_policies(user)],
        resource=[parse_policy(role.trust_policy, kind="trust")],
        management_account=True,  # service users live in the management account
    )

    def assume(**context):
        request = Request(
            "sts:AssumeRole",
            role.arn,
            directory.user_arn("ci-deployer"),
            "111111111111",
            "444444444445",
            context,
        )
        return evaluate(policies, request).decision

    assert assume(**{"sts:ExternalId": "example-ci"}) == "Allow"
    assert assume(**{"sts:ExternalId": "guess"}) != "Allow"
    assert assume() != "Allow"
