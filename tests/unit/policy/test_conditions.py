"""Condition operators, one table row per documented rule.

Source: IAM User Guide, "IAM JSON policy elements: Condition operators" (cited per row as
"Condition operators > <section>") and "Condition with multiple context keys or values" /
"Single-valued vs. multivalued context keys" ("Multivalued" below).
"""

from __future__ import annotations

import pytest

from tests.unit.policy.helpers import holds

CASES = [
    # (doc section, condition, context, expected)
    (
        "String > StringEquals exact, case-sensitive",
        {"StringEquals": {"aws:username": "alice"}},
        {"aws:username": "alice"},
        True,
    ),
    (
        "String > StringEquals is case-sensitive on values",
        {"StringEquals": {"aws:username": "alice"}},
        {"aws:username": "Alice"},
        False,
    ),
    (
        "Condition element > keys are case-insensitive",
        {"StringEquals": {"AWS:UserName": "alice"}},
        {"aws:username": "alice"},
        True,
    ),
    (
        "String > StringEqualsIgnoreCase",
        {"StringEqualsIgnoreCase": {"aws:username": "ALICE"}},
        {"aws:username": "alice"},
        True,
    ),
    (
        "String > StringNotEqualsIgnoreCase",
        {"StringNotEqualsIgnoreCase": {"aws:username": "ALICE"}},
        {"aws:username": "alice"},
        False,
    ),
    (
        "String > StringLike wildcards * and ?",
        {"StringLike": {"s3:prefix": "home/?lice/*"}},
        {"s3:prefix": "home/alice/a/b"},
        True,
    ),
    (
        "String > StringLike is case-sensitive",
        {"StringLike": {"s3:prefix": "home/*"}},
        {"s3:prefix": "HOME/x"},
        False,
    ),
    (
        "String > StringNotLike",
        {"StringNotLike": {"s3:prefix": "home/*"}},
        {"s3:prefix": "tmp/x"},
        True,
    ),
    (
        "Multiple values > several values for one key are OR-ed",
        {"StringEquals": {"aws:username": ["bob", "alice"]}},
        {"aws:username": "alice"},
        True,
    ),
    (
        "Multiple keys > several keys are AND-ed",
        {"StringEquals": {"aws:username": "alice", "aws:PrincipalTag/team": "red"}},
        {"aws:username": "alice", "aws:principaltag/team": "blue"},
        False,
    ),
    (
        "Multiple operators > several operators are AND-ed",
        {"StringEquals": {"aws:username": "alice"}, "Bool": {"aws:SecureTransport": "true"}},
        {"aws:username": "alice", "aws:SecureTransport": False},
        False,
    ),
    (
        "Negated operators > StringNotEquals over several values is 'none of them'",
        {"StringNotEquals": {"aws:username": ["bob", "alice"]}},
        {"aws:username": "alice"},
        False,
    ),
    (
        "Negated operators > StringNotEquals true when value is none of them",
        {"StringNotEquals": {"aws:username": ["bob", "carol"]}},
        {"aws:username": "alice"},
        True,
    ),
    (
        "Missing key > a positive operator is false",
        {"StringEquals": {"aws:username": "alice"}},
        {},
        False,
    ),
    (
        "Missing key > a negated operator is true",
        {"StringNotEquals": {"aws:username": "alice"}},
        {},
        True,
    ),
    (
        "...IfExists > missing key is true",
        {"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}},
        {},
        True,
    ),
    (
        "...IfExists > present key is checked",
        {"StringEqualsIfExists": {"ec2:InstanceType": "t3.micro"}},
        {"ec2:InstanceType": "m5.large"},
        False,
    ),
    (
        "Numeric > NumericLessThan",
        {"NumericLessThan": {"s3:max-keys": "10"}},
        {"s3:max-keys": "9"},
        True,
    ),
    (
        "Numeric > NumericLessThanEquals at the bound",
        {"NumericLessThanEquals": {"s3:max-keys": "10"}},
        {"s3:max-keys": 10},
        True,
    ),
    (
        "Numeric > NumericEquals compares numbers, not text",
        {"NumericEquals": {"s3:max-keys": "10"}},
        {"s3:max-keys": "10.0"},
        True,
    ),
    (
        "Numeric > NumericNotEquals",
        {"NumericNotEquals": {"s3:max-keys": ["1", "2"]}},
        {"s3:max-keys": "2"},
        False,
    ),
    (
        "Numeric > NumericGreaterThan",
        {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}},
        {"aws:MultiFactorAuthAge": "3601"},
        True,
    ),
    (
        "Numeric > a value that is not a number never satisfies",
        {"NumericNotEquals": {"s3:max-keys": "1"}},
        {"s3:max-keys": "ten"},
        False,
    ),
    (
        "Date > DateLessThan ISO 8601",
        {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        {"aws:CurrentTime": "2029-12-31T23:59:59Z"},
        True,
    ),
    (
        "Date > DateGreaterThan with epoch seconds",
        {"DateGreaterThan": {"aws:EpochTime": "1700000000"}},
        {"aws:EpochTime": "1700000001"},
        True,
    ),
    (
        "Date > offsets are honoured",
        {"DateEquals": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        {"aws:CurrentTime": "2030-01-01T01:00:00+01:00"},
        True,
    ),
    (
        "Date > DateNotEquals",
        {"DateNotEquals": {"aws:CurrentTime": "2030-01-01"}},
        {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
        False,
    ),
    (
        "Boolean > Bool true",
        {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        {"aws:MultiFactorAuthPresent": True},
        True,
    ),
    (
        "Boolean > Bool false vs missing key (use BoolIfExists)",
        {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        {},
        False,
    ),
    (
        "Boolean > BoolIfExists missing",
        {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        {},
        True,
    ),
    (
        "Binary > BinaryEquals compares decoded bytes",
        {"BinaryEquals": {"example:blob": "QmluYXJ5VmFsdWU="}},
        {"example:blob": "QmluYXJ5VmFsdWU="},
        True,
    ),
    (
        "IP address > IpAddress IPv4 CIDR",
        {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"aws:SourceIp": "203.0.113.9"},
        True,
    ),
    (
        "IP address > IpAddress IPv6 CIDR",
        {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}},
        {"aws:SourceIp": "2001:db8:1::5"},
        True,
    ),
    (
        "IP address > IPv4 address is not in an IPv6 range",
        {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}},
        {"aws:SourceIp": "203.0.113.9"},
        False,
    ),
    (
        "IP address > NotIpAddress",
        {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "10.0.0.0/8"]}},
        {"aws:SourceIp": "10.1.2.3"},
        False,
    ),
    (
        "IP address > NotIpAddress with a missing key is true",
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {},
        True,
    ),
    (
        "ARN > ArnLike matches per part, * in the resource part spans /",
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:111122223333:topic*"}},
        {"aws:SourceArn": "arn:aws:sns:eu-west-1:111122223333:topic/a/b"},
        True,
    ),
    (
        "ARN > a wildcard in one part does not span into the next",
        {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*::topic"}},
        {"aws:SourceArn": "arn:aws:sns:eu-west-1:111122223333:topic"},
        False,
    ),
    (
        "ARN > ArnEquals is case-sensitive",
        {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Dev"}},
        {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/dev"},
        False,
    ),
    (
        "ARN > ArnNotLike",
        {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin*"}},
        {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/dev"},
        True,
    ),
    ("Null > Null true: the key is absent", {"Null": {"aws:TokenIssueTime": "true"}}, {}, True),
    (
        "Null > Null true is false when present",
        {"Null": {"aws:TokenIssueTime": "true"}},
        {"aws:TokenIssueTime": "2030-01-01T00:00:00Z"},
        False,
    ),
    (
        "Null > Null false: the key is present",
        {"Null": {"aws:TokenIssueTime": "false"}},
        {"aws:TokenIssueTime": "x"},
        True,
    ),
    (
        "Multivalued > ForAllValues: every value is in the set",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
        {"aws:TagKeys": ["a"]},
        True,
    ),
    (
        "Multivalued > ForAllValues: one value outside the set",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
        {"aws:TagKeys": ["a", "c"]},
        False,
    ),
    (
        "Multivalued > ForAllValues with a missing key is true",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
        {},
        True,
    ),
    (
        "Multivalued > ForAllValues with an empty set is true",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": []},
        True,
    ),
    (
        "Multivalued > ForAllValues with an empty value is true",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": ""},
        True,
    ),
    (
        "Multivalued > ForAnyValue with an empty value is false",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": [""]}},
        {"aws:TagKeys": ""},
        False,
    ),
    (
        "Multivalued > Null false rejects an empty value",
        {"Null": {"aws:TagKeys": "false"}},
        {"aws:TagKeys": ""},
        False,
    ),
    (
        "String > without a set operator an empty string is a value",
        {"StringEquals": {"s3:prefix": ""}},
        {"s3:prefix": ""},
        True,
    ),
    (
        "Multivalued > ForAnyValue: at least one value in the set",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": ["z", "a"]},
        True,
    ),
    (
        "Multivalued > ForAnyValue with a missing key is false",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
        {},
        False,
    ),
    (
        "Multivalued > ForAnyValue with an empty set is false",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": []},
        False,
    ),
    (
        # IAM User Guide, "Single-valued vs. multivalued context keys": ForAnyValue with the
        # key absent is false; IfExists does not make it "no key, no test".
        "Single-valued vs. multivalued context keys > ForAnyValue...IfExists, key absent: false",
        {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["a"]}},
        {},
        False,
    ),
    (
        "Single-valued vs. multivalued context keys > ForAnyValue:<negated>IfExists, key absent",
        {"ForAnyValue:StringNotEqualsIfExists": {"aws:TagKeys": ["a"]}},
        {},
        False,
    ),
    (
        "Multivalued > ForAllValues:StringNotEquals: no value in the set",
        {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}},
        {"aws:TagKeys": ["a", "b"]},
        True,
    ),
    (
        "Multivalued > ForAnyValue:StringNotEquals: some value outside the set",
        {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": ["a"]},
        False,
    ),
    (
        "Multivalued > ForAnyValue:StringLike",
        {"ForAnyValue:StringLike": {"aws:TagKeys": ["cost*"]}},
        {"aws:TagKeys": ["x", "costcenter"]},
        True,
    ),
]


@pytest.mark.parametrize(
    ("section", "condition", "context", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_condition_operator(section, condition, context, expected) -> None:
    assert holds(condition, context) is expected, section


VARIABLE_CASES = [
    # Source: IAM User Guide, "IAM policy elements: Variables and tags".
    (
        "Variables in condition values are substituted",
        {"StringEquals": {"s3:prefix": "home/${aws:username}"}},
        {"s3:prefix": "home/alice", "aws:username": "alice"},
        "2012-10-17",
        True,
    ),
    (
        "Variables: the substituted value is literal, not a wildcard",
        {"StringLike": {"s3:prefix": "home/${aws:username}"}},
        {"s3:prefix": "home/alice", "aws:username": "*"},
        "2012-10-17",
        False,
    ),
    (
        "Variables: ${*} is a literal asterisk",
        {"StringEquals": {"s3:prefix": "a${*}b"}},
        {"s3:prefix": "a*b"},
        "2012-10-17",
        True,
    ),
    (
        "Variables: ${?} and ${$} are literal characters",
        {"StringEquals": {"s3:prefix": "${?}${$}"}},
        {"s3:prefix": "?$"},
        "2012-10-17",
        True,
    ),
    (
        "Variables: a default value is used when the key is absent",
        {"StringEquals": {"s3:prefix": "home/${aws:username, 'guest'}"}},
        {"s3:prefix": "home/guest"},
        "2012-10-17",
        True,
    ),
    (
        "Policy variables with no value: a negated operator matches the null",
        {"StringNotEquals": {"s3:prefix": "home/${aws:username}"}},
        {"s3:prefix": "anything"},
        "2012-10-17",
        True,
    ),
    (
        "Policy variables with no value: a positive operator does not match the null",
        {"StringEquals": {"s3:prefix": "home/${aws:username}"}},
        {"s3:prefix": "home/"},
        "2012-10-17",
        False,
    ),
    (
        "Policy variables with no value: the key's other values are still ORed",
        {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "public/*"]}},
        {"s3:prefix": "public/x"},
        "2012-10-17",
        True,
    ),
    (
        "Policy variables with no value: a negated operator's other values still count",
        {"StringNotEquals": {"s3:prefix": ["home/${aws:username}", "public"]}},
        {"s3:prefix": "public"},
        "2012-10-17",
        False,
    ),
    (
        "Policy variables with no value: a multi-valued key has no single value",
        {"StringEquals": {"s3:prefix": "${aws:TagKeys}"}},
        {"s3:prefix": "a", "aws:TagKeys": ["a"]},
        "2012-10-17",
        False,
    ),
    (
        "Variables: tag variables ${aws:PrincipalTag/team}",
        {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        {"aws:ResourceTag/team": "red", "aws:PrincipalTag/team": "red"},
        "2012-10-17",
        True,
    ),
    (
        "Version: under 2008-10-17 ${...} is plain text",
        {"StringEquals": {"s3:prefix": "home/${aws:username}"}},
        {"s3:prefix": "home/${aws:username}", "aws:username": "alice"},
        "2008-10-17",
        True,
    ),
    (
        "Version: under 2008-10-17 no substitution happens",
        {"StringEquals": {"s3:prefix": "home/${aws:username}"}},
        {"s3:prefix": "home/alice", "aws:username": "alice"},
        "2008-10-17",
        False,
    ),
]


@pytest.mark.parametrize(
    ("section", "condition", "context", "version", "expected"),
    VARIABLE_CASES,
    ids=[c[0] for c in VARIABLE_CASES],
)
def test_policy_variables_in_conditions(section, condition, context, version, expected) -> None:
    assert holds(condition, context, version=version) is expected, section
