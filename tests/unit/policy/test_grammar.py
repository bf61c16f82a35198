"""Validation: every problem at once, with its JSON path, sorted into Access Analyzer's
categories. Sources: IAM User Guide, "IAM JSON policy element reference" (per element),
"Grammar of the IAM JSON policy language", and IAM Access Analyzer "policy check reference".
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from broker.errors import PolicyError
from broker.policy import PolicyValidationError, parse_policy, validate_policy
from tests.unit.policy.helpers import allow, doc


def codes(document: Any, kind: str = "identity") -> set[tuple[str, str, str]]:
    return {(f.severity, f.path, f.code) for f in validate_policy(document, kind=kind)}  # type: ignore[arg-type]


ERRORS = [
    ("Grammar > the document is JSON", "{not json", "identity", ("error", "", "invalid_json")),
    (
        "Grammar > duplicate keys are rejected",
        '{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}',
        "identity",
        ("error", "", "duplicate_key"),
    ),
    (
        "Version > only the two language versions",
        {"Version": "2012-10-18", "Statement": [allow()]},
        "identity",
        ("error", "Version", "invalid_version"),
    ),
    (
        "Statement > required",
        {"Version": "2012-10-17"},
        "identity",
        ("error", "Statement", "missing_element"),
    ),
    (
        "Policy > unknown top-level element",
        {"Version": "2012-10-17", "Statement": [allow()], "Extra": 1},
        "identity",
        ("error", "Extra", "unknown_key"),
    ),
    (
        "Effect > Allow or Deny",
        doc({"Effect": "allow", "Action": "s3:*", "Resource": "*"}),
        "identity",
        ("error", "Statement[0].Effect", "invalid_effect"),
    ),
    (
        "Action > Action or NotAction required",
        doc({"Effect": "Allow", "Resource": "*"}),
        "identity",
        ("error", "Statement[0]", "missing_element"),
    ),
    (
        "Action > not both Action and NotAction",
        doc({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}),
        "identity",
        ("error", "Statement[0]", "conflicting_elements"),
    ),
    (
        "Action > service:action",
        doc(allow(action="s3GetObject")),
        "identity",
        ("error", "Statement[0].Action", "invalid_action"),
    ),
    (
        "Resource > required in identity policies",
        doc({"Effect": "Allow", "Action": "s3:*"}),
        "identity",
        ("error", "Statement[0]", "missing_element"),
    ),
    (
        "Resource > an ARN has six parts",
        doc(allow(resource="arn:aws:s3:bucket")),
        "identity",
        ("error", "Statement[0].Resource", "invalid_resource"),
    ),
    (
        "Resource > a trust policy has none",
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "111122223333"},
                "Action": "sts:AssumeRole",
                "Resource": "*",
            }
        ),
        "trust",
        ("error", "Statement[0].Resource", "prohibited_element"),
    ),
    (
        "RCP syntax > Principal must be *",
        doc(
            {
                "Effect": "Deny",
                "Principal": {"AWS": "111122223333"},
                "Action": "s3:*",
                "Resource": "*",
            }
        ),
        "rcp",
        ("error", "Statement[0].Principal", "invalid_principal"),
    ),
    (
        "RCP syntax > NotPrincipal is not supported",
        doc(
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": "111122223333"},
                "Action": "s3:*",
                "Resource": "*",
            }
        ),
        "rcp",
        ("error", "Statement[0].NotPrincipal", "prohibited_element"),
    ),
    (
        "NotPrincipal > not allowed in a role trust policy",
        doc(
            {"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}
        ),
        "trust",
        ("error", "Statement[0].NotPrincipal", "prohibited_element"),
    ),
    (
        "Principal > not in identity policies",
        doc(allow(Principal="*")),
        "identity",
        ("error", "Statement[0].Principal", "prohibited_element"),
    ),
    (
        "Principal > required in resource policies",
        doc(allow()),
        "resource",
        ("error", "Statement[0]", "missing_element"),
    ),
    (
        "Principal > no partial wildcards",
        doc(allow(Principal={"AWS": "arn:aws:iam::*:root"})),
        "resource",
        ("error", "Statement[0].Principal.AWS", "principal_wildcard"),
    ),
    (
        "Principal > known principal types",
        doc(allow(Principal={"User": "alice"})),
        "resource",
        ("error", "Statement[0].Principal.User", "invalid_principal"),
    ),
    (
        "Principal > AWS values are accounts or ARNs",
        doc(allow(Principal={"AWS": "alice"})),
        "resource",
        ("error", "Statement[0].Principal.AWS", "invalid_principal"),
    ),
    (
        "Condition > operator names are exact",
        doc(allow(Condition={"StringEqualsIgnorecase": {"aws:username": "a"}})),
        "identity",
        ("error", "Statement[0].Condition", "unknown_operator"),
    ),
    (
        "Condition > Null takes no qualifier",
        doc(allow(Condition={"ForAnyValue:Null": {"aws:TagKeys": "true"}})),
        "identity",
        ("error", "Statement[0].Condition", "unknown_operator"),
    ),
    (
        "Condition > numeric values",
        doc(allow(Condition={"NumericLessThan": {"s3:max-keys": "x"}})),
        "identity",
        ("error", "Statement[0].Condition.NumericLessThan.s3:max-keys", "invalid_condition_value"),
    ),
    (
        "Condition > date values",
        doc(allow(Condition={"DateLessThan": {"aws:CurrentTime": "soon"}})),
        "identity",
        ("error", "Statement[0].Condition.DateLessThan.aws:CurrentTime", "invalid_condition_value"),
    ),
    (
        "Condition > IP values",
        doc(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0/33"}})),
        "identity",
        ("error", "Statement[0].Condition.IpAddress.aws:SourceIp", "invalid_condition_value"),
    ),
    (
        "Condition > Bool values",
        doc(allow(Condition={"Bool": {"aws:SecureTransport": "yes"}})),
        "identity",
        ("error", "Statement[0].Condition.Bool.aws:SecureTransport", "invalid_condition_value"),
    ),
    (
        "Variables > malformed variable",
        doc(allow(resource="arn:aws:s3:::b/${aws:user name}")),
        "identity",
        ("error", "Statement[0].Resource", "invalid_variable"),
    ),
    (
        "Sid > unique within a policy",
        doc(allow(Sid="A"), allow(Sid="A")),
        "identity",
        ("error", "Statement[1].Sid", "duplicate_sid"),
    ),
    (
        "Sid > letters and digits",
        doc(allow(Sid="my sid")),
        "identity",
        ("error", "Statement[0].Sid", "invalid_sid"),
    ),
    (
        "Statement > unknown element",
        doc(allow(Effects="Allow")),
        "identity",
        ("error", "Statement[0].Effects", "unknown_key"),
    ),
]


@pytest.mark.parametrize(
    ("section", "document", "kind", "finding"), ERRORS, ids=[c[0] for c in ERRORS]
)
def test_error(section, document, kind, finding) -> None:
    assert finding in codes(document, kind), section
    with pytest.raises(PolicyValidationError) as raised:
        parse_policy(document, kind=kind)
    assert isinstance(raised.value, PolicyError)
    assert raised.value.findings and all(f.severity == "error" for f in raised.value.findings)


WARNINGS = [
    (
        "NotPrincipal > Allow with NotPrincipal",
        doc(
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": "111122223333"},
                "Action": "s3:*",
                "Resource": "*",
            }
        ),
        "resource",
        ("security_warning", "Statement[0].NotPrincipal", "allow_with_not_principal"),
    ),
    (
        "Trust > Principal * without a condition",
        doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}),
        "trust",
        ("security_warning", "Statement[0].Principal", "public_principal"),
    ),
    (
        "NotAction > Allow NotAction on every resource",
        doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        "identity",
        ("security_warning", "Statement[0].NotAction", "allow_not_action"),
    ),
    (
        "Multivalued > ForAllValues in an Allow",
        doc(allow(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}})),
        "identity",
        (
            "security_warning",
            "Statement[0].Condition.ForAllValues:StringEquals.aws:TagKeys",
            "for_all_values_allow",
        ),
    ),
    (
        "Multivalued > set operator on a single-valued key",
        doc(allow(Condition={"ForAnyValue:StringEquals": {"aws:username": ["a"]}})),
        "identity",
        (
            "warning",
            "Statement[0].Condition.ForAnyValue:StringEquals.aws:username",
            "set_operator_on_single_valued_key",
        ),
    ),
    (
        "Multivalued > multi-valued key without a set operator",
        doc(allow(Condition={"StringEquals": {"aws:TagKeys": ["a"]}})),
        "identity",
        (
            "warning",
            "Statement[0].Condition.StringEquals.aws:TagKeys",
            "multi_valued_key_without_set_operator",
        ),
    ),
    (
        "Version > missing Version means 2008-10-17",
        {"Statement": [allow()]},
        "identity",
        ("warning", "Version", "missing_version"),
    ),
    (
        "Version > variables under 2008-10-17 are text",
        doc(allow(resource="arn:aws:s3:::b/${aws:username}"), version="2008-10-17"),
        "identity",
        ("warning", "Statement[0]", "variables_not_substituted"),
    ),
    (
        "Trust > an action that is not a role action",
        doc({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject"}),
        "trust",
        ("warning", "Statement[0].Action", "not_a_trust_action"),
    ),
    (
        "Principal > a unique ID left by a deleted principal",
        doc(allow(Principal={"AWS": "AIDAEXAMPLEEXAMPLE123"})),
        "resource",
        ("warning", "Statement[0].Principal.AWS", "deleted_principal"),
    ),
    (
        "Global keys > aws:SourceIp is an IP address",
        doc(allow(Condition={"StringLike": {"aws:SourceIp": "10.*"}})),
        "identity",
        ("warning", "Statement[0].Condition.StringLike.aws:SourceIp", "mismatched_type"),
    ),
    (
        "Global keys > aws:MultiFactorAuthPresent is a boolean",
        doc(allow(Condition={"StringEquals": {"aws:MultiFactorAuthPresent": "true"}})),
        "identity",
        (
            "warning",
            "Statement[0].Condition.StringEquals.aws:MultiFactorAuthPresent",
            "mismatched_type",
        ),
    ),
    (
        "Suggestion > duplicate values",
        doc(allow(action=["s3:GetObject", "S3:getobject"])),
        "identity",
        ("suggestion", "Statement[0].Action", "duplicate_value"),
    ),
]


@pytest.mark.parametrize(
    ("section", "document", "kind", "finding"), WARNINGS, ids=[c[0] for c in WARNINGS]
)
def test_warning_does_not_invalidate(section, document, kind, finding) -> None:
    assert finding in codes(document, kind), section
    parse_policy(document, kind=kind)  # still valid


def test_every_error_is_reported_at_once() -> None:
    document = doc(
        {"Effect": "Maybe", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "nope", "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"StringEqualsIgnorecase": {"a": "b"}},
        },
    )
    paths = [f.path for f in validate_policy(document) if f.severity == "error"]
    assert paths == ["Statement[0].Effect", "Statement[1].Action", "Statement[2].Condition"]
    message = str(next(f for f in validate_policy(document) if f.code == "unknown_operator"))
    assert message.startswith('Statement[2].Condition: unknown operator "StringEqualsIgnorecase"')


def test_single_values_or_lists_everywhere() -> None:
    single = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    single["Statement"] = single["Statement"][0]  # a statement object, not a list
    assert parse_policy(json.dumps(single)).statements[0].action_values == ("s3:GetObject",)
    listed = doc(allow(action=["s3:GetObject", "s3:PutObject"], resource=["*"]))
    assert len(parse_policy(listed).statements[0].action_values) == 2


def test_resource_policies_take_any_sid() -> None:
    statement = {
        "Sid": "Allow reads from the build role",
        "Effect": "Allow",
        "Principal": {"AWS": "111122223333"},
        "Action": "s3:GetObject",
        "Resource": "*",
    }
    assert validate_policy(doc(statement), kind="resource") == []


def test_valid_policy_has_no_findings() -> None:
    assert validate_policy(doc(allow(Sid="ReadReports"))) == []
    typed = {
        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
        "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
        "BoolIfExists": {"aws:MultiFactorAuthPresent": "true"},
        "NumericLessThan": {"aws:MultiFactorAuthAge": "3600"},
        "Null": {"aws:TokenIssueTime": "false"},
    }
    assert validate_policy(doc(allow(Condition=typed))) == []
