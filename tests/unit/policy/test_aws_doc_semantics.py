"""Evaluation rules where the engine once differed from AWS, each from the IAM User Guide section
named in its test: policy variables with no value, ForAnyValue with IfExists on a missing key,
short resource patterns, and where policy variables may stand in an ARN.
"""

from __future__ import annotations

import pytest

from broker.policy import PolicySet, validate_policy
from tests.unit.policy.helpers import (
    ACCOUNT,
    OBJECT,
    allow,
    decide,
    deny,
    doc,
    policy,
    request,
)

QUEUE = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db:password-AbCdEf"

# --- "IAM policy elements: Variables and tags" > "Policy variables with no value" -------------


def test_no_value_doc_example_denies_when_the_principal_tag_is_not_set() -> None:
    # The section's example: access is explicitly denied when aws:PrincipalTag/Team is not set.
    guard = deny(
        action="s3:*",
        Condition={"StringNotEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}},
    )
    p = policy(allow(action="s3:*"), guard)
    untagged = request(context={"aws:ResourceTag/Team": "blue"})
    assert decide(PolicySet(identity=[p]), untagged) == "ExplicitDeny"
    same_team = request(context={"aws:ResourceTag/Team": "blue", "aws:PrincipalTag/Team": "blue"})
    assert decide(PolicySet(identity=[p]), same_team) == "Allow"


@pytest.mark.parametrize("kind", ["scp", "resource"])
def test_no_value_never_skips_a_deny_in_scps_or_resource_policies(kind: str) -> None:
    condition = {"StringNotEquals": {"aws:ResourceTag/Team": "${aws:PrincipalTag/Team}"}}
    guard = deny(action="s3:*", Condition=condition)
    if kind == "resource":
        guard["Principal"] = "*"
        opening = allow(action="s3:*", Principal={"AWS": ACCOUNT})
        chosen = PolicySet(
            identity=[policy(allow(action="s3:*"))],
            resource=[policy(opening, guard, kind="resource")],
        )
    else:
        chosen = PolicySet(
            identity=[policy(allow(action="s3:*"))],
            scp_hierarchy=[[policy(allow(action="*"), guard, kind="scp")]],
        )
    assert decide(chosen, request(context={"aws:ResourceTag/Team": "blue"})) == "ExplicitDeny"


def test_no_value_in_resource_only_that_entry_matches_nothing() -> None:
    p = policy(allow(resource=["arn:aws:s3:::example-bucket/home/${aws:username}/*", OBJECT]))
    assert decide(PolicySet(identity=[p]), request()) == "Allow"
    other = request(resource="arn:aws:s3:::example-bucket/home/bob/x")
    assert decide(PolicySet(identity=[p]), other) == "ImplicitDeny"
    own = request(
        resource="arn:aws:s3:::example-bucket/home/bob/x", context={"aws:username": "bob"}
    )
    assert decide(PolicySet(identity=[p]), own) == "Allow"


def test_no_value_in_a_deny_not_resource_denies_everything_else() -> None:
    # The entry matches nothing, so it excludes nothing: the Deny still applies.
    guard = {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/${aws:username}"}
    p = policy(allow(action="s3:*"), guard)
    assert decide(PolicySet(identity=[p]), request()) == "ExplicitDeny"


def test_no_value_in_a_condition_other_values_are_still_ored() -> None:
    condition = {"StringEquals": {"s3:prefix": ["home/${aws:username}", "public"]}}
    p = policy(allow(Condition=condition))
    assert decide(PolicySet(identity=[p]), request(context={"s3:prefix": "public"})) == "Allow"
    assert decide(PolicySet(identity=[p]), request(context={"s3:prefix": "home/"})) == (
        "ImplicitDeny"
    )


def test_no_value_default_is_used_instead() -> None:
    condition = {"StringEquals": {"s3:prefix": "home/${aws:username, 'guest'}"}}
    p = policy(allow(Condition=condition))
    guest = request(context={"s3:prefix": "home/guest"})
    assert decide(PolicySet(identity=[p]), guest) == "Allow"


# --- "Single-valued vs. multivalued context keys" (ForAnyValue, missing key) ------------------


@pytest.mark.parametrize(
    "operator", ["ForAnyValue:StringEqualsIfExists", "ForAnyValue:StringNotLikeIfExists"]
)
def test_for_any_value_if_exists_on_a_missing_key_is_false(operator: str) -> None:
    guard = deny(action="s3:*", Condition={operator: {"aws:TagKeys": ["team"]}})
    p = policy(allow(action="s3:*"), guard)
    # "No match" for the Deny: the Allow decides.
    assert decide(PolicySet(identity=[p]), request()) == "Allow"
    grant = policy(allow(Condition={operator: {"aws:TagKeys": ["team"]}}))
    assert decide(PolicySet(identity=[grant]), request()) == "ImplicitDeny"


# --- "IAM JSON policy elements: Resource" (wildcards in resource ARNs) -----------------------


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("arn:aws:sqs:*", QUEUE, True),
        ("arn:aws:sqs:us-east-1:*", QUEUE, True),
        ("arn:aws:sqs:eu-west-1:*", QUEUE, False),
        ("arn:aws:ec2:*", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc", True),
        ("arn:aws:iam::*", f"arn:aws:iam::{ACCOUNT}:role/dev", True),
        ("arn:aws:iam::*", QUEUE, False),
        ("arn:aws:secretsmanager:us-east-1:*", SECRET, True),
        ("arn:aws:sqs:us-*", QUEUE, True),
    ],
)
def test_short_patterns_trailing_star_expands_beyond_colons(
    pattern: str, resource: str, expected: bool
) -> None:
    # "If the * wildcard is the last character of a resource ARN segment, it can expand to
    # match beyond the colon boundaries."
    assert not [f for f in validate_policy(doc(allow(resource=pattern))) if f.severity == "error"]
    p = policy(allow(action="*", resource=pattern))
    got = decide(PolicySet(identity=[p]), request(action="sqs:SendMessage", resource=resource))
    assert (got == "Allow") is expected
    # The same pattern in a Deny denies exactly what it would allow.
    d = policy(allow(action="*"), deny(action="*", resource=pattern))
    got = decide(PolicySet(identity=[d]), request(action="sqs:SendMessage", resource=resource))
    assert (got == "ExplicitDeny") is expected


@pytest.mark.parametrize("pattern", ["arn:aws:sqs:us-east-1", "arn:aws:iam::12", "arn:", "arn:aws"])
def test_short_patterns_without_trailing_star_are_refused(pattern: str) -> None:
    found = {f.code for f in validate_policy(doc(allow(resource=pattern)))}
    assert "invalid_resource" in found


# --- "IAM policy elements: Variables and tags" > "Where you can use policy variables" ----------


@pytest.mark.parametrize(
    "pattern",
    [
        "arn:aws:iam::${aws:PrincipalAccount}:role/dev",
        "arn:aws:sqs:${aws:RequestedRegion}:111122223333:orders",
        "arn:${aws:PrincipalTag/partition}:s3:::b/x",
        "arn:aws:iam::${aws:PrincipalAccount}*",
    ],
)
def test_variables_before_the_fifth_colon_are_refused(pattern: str) -> None:
    # Variables may stand only in the resource part of an ARN (after the fifth colon).
    findings = [f for f in validate_policy(doc(allow(resource=pattern))) if f.severity == "error"]
    assert [f.code for f in findings] == ["invalid_variable"]
    assert "resource part" in findings[0].message


def test_variables_in_the_resource_part_are_substituted() -> None:
    pattern = f"arn:aws:sqs:us-east-1:{ACCOUNT}:${{aws:username}}-*"
    p = policy(allow(action="sqs:SendMessage", resource=pattern))
    req = request(
        action="sqs:SendMessage", resource=QUEUE + "-1", context={"aws:username": "orders"}
    )
    assert decide(PolicySet(identity=[p]), req) == "Allow"


def test_escaped_wildcard_in_the_account_part_is_not_a_variable() -> None:
    # ${*} is the literal character, not a variable: allowed anywhere.
    assert not [
        f
        for f in validate_policy(doc(allow(resource="arn:aws:s3:::b/${*}")))
        if f.severity == "error"
    ]


# --- "IAM JSON policy elements: Condition operators" > ARN condition operators ---------------


@pytest.mark.parametrize("value", ["arn:aws:sns:*", "arn:aws:iam::*"])
def test_arn_condition_values_need_six_parts(value: str) -> None:
    # Each of the six colon-delimited parts is compared on its own: a short pattern is refused.
    condition = {"ArnLike": {"aws:SourceArn": value}}
    found = [f for f in validate_policy(doc(allow(Condition=condition))) if f.severity == "error"]
    assert [f.code for f in found] == ["invalid_condition_value"]
    six = {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:*"}}
    assert not [f for f in validate_policy(doc(allow(Condition=six))) if f.severity == "error"]


# --- AWS Organizations User Guide, "RCP syntax" ------------------------------------------------


def test_rcp_refuses_not_action() -> None:
    statement = {"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": "*"}
    found = {(f.path, f.code) for f in validate_policy(doc(statement), kind="rcp")}
    assert ("Statement[0].NotAction", "prohibited_element") in found


def test_rcp_refuses_short_arn_patterns() -> None:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": "arn:aws:sqs:*"}
    found = {(f.path, f.code) for f in validate_policy(doc(statement), kind="rcp")}
    assert ("Statement[0].Resource", "invalid_resource") in found
    full = {**statement, "Resource": "arn:aws:sqs:*:*:*"}
    assert not [f for f in validate_policy(doc(full), kind="rcp") if f.severity == "error"]


@pytest.mark.parametrize("operator", ["ArnNotLike", "ArnNotEquals", "ArnLike"])
def test_arn_operator_on_a_context_value_that_is_no_arn_is_false(operator: str) -> None:
    # The six parts cannot be compared: the condition is false, negated or not, so a value
    # that is not an ARN never grants through a negated operator.
    condition = {operator: {"aws:SourceArn": "arn:aws:sns:*:*:topic-a"}}
    p = policy(allow(Condition=condition))
    for value in ("anonymous", "arn:aws:sns:topic-a"):
        got = decide(PolicySet(identity=[p]), request(context={"aws:SourceArn": value}))
        assert got == "ImplicitDeny", (operator, value)
