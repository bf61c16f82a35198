"""A small universe of requests, and brute-force enumeration over it with the engine as the
oracle: the reference the solver's answers are checked against."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from broker.analyzer.external import witness_policies
from broker.policy import Policy, PolicySet, Request, compile_policy_set

HOME = "111111111111"  # the resource's account, inside the zone
SIBLING = "222222222222"  # another account of the organization
OUTSIDERS = ("333333333333", "444444444444")
ORG = "o-example"
ROLE_ARN = f"arn:aws:iam::{HOME}:role/target"
BUCKET = "arn:aws:s3:::example-bucket"
RESOURCES = (BUCKET, f"{BUCKET}/a.txt", f"{BUCKET}/b/c.txt")
ACTIONS = ("sts:AssumeRole", "s3:GetObject", "s3:PutObject")
WEB_IDP = "cognito-identity.amazonaws.com"
ORG_IDS = (None, ORG, "o-other")
SOURCE_IPS = (None, "10.1.2.3", "203.0.113.9", "2001:db8::1")
VPCS = (None, "vpc-1111", "vpc-2222")
EXTERNAL_IDS = (None, "ext-1", "EXT-2")
# A bucket statement opened from one account to everyone (the old and the new policy): the
# heaviest comparison of the tests (about 2.5 million z3 resource units for root callers).
BUCKET_OLD = {
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::example-bucket/*",
}
BUCKET_NEW = {**BUCKET_OLD, "Principal": {"AWS": "*"}, "Action": "s3:Get*"}


def principals(account: str) -> list[tuple[str, str]]:
    """(principal ARN, aws:PrincipalArn) for each kind of IAM caller of ``account``."""
    role = f"arn:aws:iam::{account}:role/deploy"
    return [
        (f"arn:aws:iam::{account}:root", f"arn:aws:iam::{account}:root"),
        (f"arn:aws:iam::{account}:user/alice", f"arn:aws:iam::{account}:user/alice"),
        (role, role),
        (f"arn:aws:sts::{account}:assumed-role/deploy/s1", role),
        (
            f"arn:aws:sts::{account}:federated-user/bob",
            f"arn:aws:sts::{account}:federated-user/bob",
        ),
    ]


def callers(
    accounts: tuple[str, ...], orgs: tuple[str | None, ...]
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(principal ARN, account, principal context) for IAM callers and the external ones."""
    for account in accounts:
        for arn, principal_arn in principals(account):
            for org in orgs:
                context = {"aws:PrincipalArn": principal_arn, "aws:PrincipalAccount": account}
                if org is not None:
                    context["aws:PrincipalOrgID"] = org
                yield arn, account, context
    yield WEB_IDP, "", {}
    yield "anonymous", "", {}


def requests(
    kind: str, accounts: tuple[str, ...], orgs: tuple[str | None, ...], resource_account: str
) -> Iterator[Request]:
    resources = (ROLE_ARN,) if kind == "trust" else RESOURCES
    for arn, account, principal_context in callers(accounts, orgs):
        for action, resource, ip, vpc, external_id in itertools.product(
            ACTIONS, resources, SOURCE_IPS, VPCS, EXTERNAL_IDS
        ):
            context = dict(principal_context)
            for key, value in (
                ("aws:SourceIp", ip),
                ("aws:SourceVpc", vpc),
                ("sts:ExternalId", external_id),
            ):
                if value is not None:
                    context[key] = value
            yield Request(action, resource, arn, account, resource_account, context)


def outside_requests(kind: str) -> Iterator[Request]:
    """Requests from outside the organization zone {HOME, SIBLING, ORG}."""
    return requests(kind, OUTSIDERS, (None, "o-other"), HOME)


def allowed_from_outside(policy: Policy) -> Request | None:
    """A request of the universe from outside the zone that the engine allows, if any."""
    compiled = compile_policy_set(witness_policies(PolicySet(resource=[policy])))
    return next((r for r in outside_requests(policy.kind) if compiled.evaluate(r).allowed), None)
