"""Access Analyzer: findings with witnesses the engine allows, "no external access" where none
exists, and "cannot decide" for what the encoding leaves out."""

from __future__ import annotations

from typing import Any

import pytest

from broker.analyzer.external import analyze, witness_policies
from broker.analyzer.targets import Target, Zone, target_from_document
from broker.policy import PolicySet, evaluate
from tests.unit.analyzer.universe import BUCKET, HOME, ORG, ROLE_ARN, SIBLING

ORG_ZONE = Zone("organization", frozenset({HOME, SIBLING}), ORG)
ACCOUNT_ZONE = Zone("account", frozenset())


def trust(*statements: dict[str, Any]) -> Target:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return target_from_document("role", "trust", ROLE_ARN, HOME, doc)


def bucket(*statements: dict[str, Any]) -> Target:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return target_from_document("bucket", "resource", BUCKET, HOME, doc)


def assume(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


def get(principal: Any = "*", **extra: Any) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": f"{BUCKET}/*",
        **extra,
    }


def check_witnesses(target: Target, zone: Zone) -> list[dict[str, Any]]:
    """Analyse; every witness must be allowed by the engine and come from outside ``zone``."""
    result = analyze(target, zone)
    policies = witness_policies(PolicySet(resource=[target.policy]))
    zone = zone.for_target(target)
    for witness in result.witnesses:
        assert evaluate(policies, witness.request, explain=False).allowed
        assert witness.request.principal_account not in zone.accounts
        context = {k.lower(): v for k, v in witness.request.context.items()}
        if zone.org_id is not None:
            assert context.get("aws:principalorgid") != zone.org_id
    return [w.to_json() for w in result.witnesses]


def status(target: Target, zone: Zone = ORG_ZONE) -> str:
    return analyze(target, zone).status


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (trust(assume({"AWS": SIBLING})), "none"),
        (trust(assume({"AWS": "333333333333"})), "external"),
        (trust(assume("*")), "external"),
        (trust(assume("*", Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}})), "none"),
        (
            trust(assume("*", Condition={"StringEquals": {"aws:PrincipalAccount": [HOME]}})),
            "none",
        ),
        (trust(assume("*", Condition={"StringLike": {"aws:PrincipalOrgID": "o-*"}})), "external"),
        (
            trust(
                assume("*", Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{HOME}:*"}})
            ),
            "none",
        ),
        (trust(assume({"Service": "ec2.amazonaws.com"})), "none"),
        (trust(assume({"Federated": "cognito-identity.amazonaws.com"})), "external"),
        (
            trust(assume({"Federated": f"arn:aws:iam::{HOME}:saml-provider/Corp"})),
            "none",
        ),
        (
            trust(assume({"Federated": "arn:aws:iam::333333333333:saml-provider/Theirs"})),
            "external",
        ),
        (
            trust(
                assume("*"),
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "*",
                    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
                },
            ),
            "none",
        ),
        (bucket(get()), "external"),
        (bucket(get(Condition={"StringEquals": {"aws:SourceVpc": "vpc-1111"}})), "external"),
        (
            bucket(
                get(),
                {
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": f"arn:aws:iam::{HOME}:root"},
                    "Action": "s3:*",
                    "Resource": "*",
                },
            ),
            "none",
        ),
        (bucket(get(Condition={"StringEquals": {"aws:PrincipalOrgID": ORG}})), "none"),
        (bucket(get(Condition={"Null": {"aws:PrincipalOrgID": "false"}})), "external"),
        # The Resource is another bucket: the policy governs only its own bucket.
        (
            bucket({**get(), "Resource": "arn:aws:s3:::someone-elses-bucket/*"}),
            "none",
        ),
    ],
)
def test_external_access_decisions(target: Target, expected: str) -> None:
    result = analyze(target, ORG_ZONE)
    assert result.status == expected, result.to_json()
    check_witnesses(target, ORG_ZONE)
    if expected == "external":
        assert result.witnesses


def test_account_zone_reports_sibling_accounts_as_external() -> None:
    target = trust(assume({"AWS": SIBLING}))
    assert status(target, ORG_ZONE) == "none"
    witnesses = check_witnesses(target, ACCOUNT_ZONE)
    assert witnesses and witnesses[0]["principal_account"] == SIBLING


def test_witness_satisfies_ip_and_vpc_conditions() -> None:
    condition = {
        "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
        "StringEquals": {"aws:SourceVpc": "vpc-1111"},
    }
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/25"}},
    }
    witnesses = check_witnesses(bucket(get(Condition=condition), deny), ORG_ZONE)
    assert witnesses
    for witness in witnesses:
        ip = witness["context"]["aws:sourceip"]
        assert ip.startswith("2001:db8") or int(ip.rsplit(".", 1)[1]) >= 128
        assert witness["context"]["aws:sourcevpc"] == "vpc-1111"


def test_deny_on_every_outside_network_leaves_no_access() -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    }
    # A caller inside 10/8 still gets in, and so does one with no (or a malformed) SourceIp:
    # the analyzer must find one, never say "no external access".
    assert status(bucket(get(), deny)) == "external"
    strict = {**deny, "Condition": {"NotIpAddressIfExists": {"aws:SourceIp": "0.0.0.0/0"}}}
    assert status(bucket(get(Condition={"Null": {"aws:SourceIp": "false"}}), strict)) == "external"


UNENCODED = [
    ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, "NumericLessThan"),
    ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, "DateLessThan"),
    ({"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": "o-x/*"}}, "ForAnyValue"),
    ({"StringEquals": {"aws:PrincipalOrgPaths": "o-x/r-1/"}}, "aws:PrincipalOrgPaths"),
    ({"StringEquals": {"aws:PrincipalTag/team": "${aws:username}"}}, "policy variables"),
]


@pytest.mark.parametrize(("condition", "construct"), UNENCODED)
def test_a_deny_behind_an_unencoded_construct_is_never_no_access(
    condition: dict[str, Any], construct: str
) -> None:
    deny = {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}
    # The Deny applies only when the construct holds; the analyzer must not assume it does.
    result = analyze(bucket(get(), {**deny, "Condition": condition}), ORG_ZONE)
    assert result.status != "none"
    check_witnesses(result.target, ORG_ZONE)


@pytest.mark.parametrize(("condition", "construct"), UNENCODED)
def test_an_allow_behind_an_unencoded_construct_is_proved_or_undecided(
    condition: dict[str, Any], construct: str
) -> None:
    result = analyze(bucket(get(Condition=condition)), ORG_ZONE)
    assert result.status in ("external", "undecided")
    check_witnesses(result.target, ORG_ZONE)
    if result.status == "undecided":
        assert any(construct in reason for reason in result.reasons), result.reasons


def test_unencoded_construct_on_an_inside_principal_is_still_no_access() -> None:
    # Free unknowns over-approximate: when even that admits no outsider, the answer is sound.
    condition = {"NumericLessThan": {"aws:MultiFactorAuthAge": "900"}}
    assert status(trust(assume({"AWS": HOME}, Condition=condition))) == "none"
