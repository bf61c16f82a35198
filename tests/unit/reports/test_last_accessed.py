"""Last accessed per service, the --days boundary, wildcards, and the narrower policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from broker.analyzer.last_accessed import granted_services, last_accessed, policy_services
from broker.policy import validate_policy
from tests.unit.reports.events import NOW, authorize, role_caller

ROLE = "arn:aws:iam::444444444445:role/service/ci-deploy"
CALLER = role_caller(ROLE, "alice")
KNOWN = frozenset({"s3", "sqs", "ec2", "lambda", "sns"})


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(actions: Any, sid: str = "Grant") -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": "*"}


def _uses(report: Any) -> dict[str, tuple[str | None, bool]]:
    return {
        s.service: (s.last_used.isoformat() if s.last_used else None, s.unused)
        for s in report.services
    }


def _errors(document: Any) -> list[Any]:
    return [f for f in validate_policy(document, kind="identity") if f.severity == "error"]


def test_used_yesterday_versus_two_hundred_days_ago() -> None:
    documents = [_policy(_allow(["s3:GetObject", "s3:PutObject"]), _allow("ec2:Describe*", "Ec2"))]
    events = [
        authorize(CALLER, "s3:GetObject", NOW - timedelta(days=1)),
        authorize(CALLER, "ec2:DescribeInstances", NOW - timedelta(days=200)),
    ]
    report = last_accessed(documents, events, KNOWN, NOW, 90)
    assert _uses(report) == {
        "ec2": ("2025-11-13T12:00:00+00:00", True),
        "s3": ("2026-05-31T12:00:00+00:00", False),
    }
    policy = report.suggested_policy
    assert policy is not None
    assert policy["Statement"] == [_allow(["s3:GetObject", "s3:PutObject"])]
    assert _errors(policy) == []


def test_days_boundary_is_inclusive() -> None:
    documents = [_policy(_allow(["s3:GetObject", "sqs:SendMessage"]))]
    events = [
        authorize(CALLER, "s3:GetObject", NOW - timedelta(days=30)),
        authorize(CALLER, "sqs:SendMessage", NOW - timedelta(days=30, seconds=1)),
    ]
    uses = _uses(last_accessed(documents, events, KNOWN, NOW, 30))
    assert uses["s3"][1] is False
    assert uses["sqs"][1] is True
    assert _uses(last_accessed(documents, events, KNOWN, NOW, 31))["sqs"][1] is False


def test_never_used_service_is_flagged_and_dropped() -> None:
    documents = [_policy(_allow(["s3:GetObject", "sns:Publish"]))]
    report = last_accessed(documents, [authorize(CALLER, "s3:GetObject", NOW)], KNOWN, NOW, 90)
    assert _uses(report)["sns"] == (None, True)
    assert report.suggested_policy is not None
    assert report.suggested_policy["Statement"][0]["Action"] == ["s3:GetObject"]


def test_wildcard_service_prefix_expands_against_known_services() -> None:
    documents = [_policy(_allow("s*:Get*"))]
    assert granted_services(documents, KNOWN) == {"s3", "sqs", "sns"}
    report = last_accessed(documents, [authorize(CALLER, "s3:GetObject", NOW)], KNOWN, NOW, 90)
    assert set(_uses(report)) == {"s3", "sqs", "sns"}
    assert report.suggested_policy is not None
    assert report.suggested_policy["Statement"][0]["Action"] == ["s3:Get*"]
    assert _errors(report.suggested_policy) == []


def test_star_grants_every_service_plainly() -> None:
    documents = [_policy(_allow("*", "Admin"))]
    events = [
        authorize(CALLER, "lambda:InvokeFunction", NOW - timedelta(days=2)),
        authorize(CALLER, "dynamodb:GetItem", NOW - timedelta(days=5)),
    ]
    report = last_accessed(documents, events, KNOWN, NOW, 90)
    uses = _uses(report)
    assert uses["*"] == ("2026-05-30T12:00:00+00:00", False)
    # services from the log count as known even when no config policy names them
    assert uses["dynamodb"][1] is False
    assert uses["ec2"] == (None, True)
    assert any("every service" in note for note in report.notes)
    assert report.suggested_policy is not None
    assert report.suggested_policy["Statement"][0]["Action"] == ["dynamodb:*", "lambda:*"]
    assert _errors(report.suggested_policy) == []


def test_deny_kept_not_action_kept_with_a_note() -> None:
    deny = {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    broad = {"Sid": "AllButIam", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
    documents = [_policy(_allow("s3:GetObject"), deny, broad)]
    report = last_accessed(documents, [authorize(CALLER, "s3:GetObject", NOW)], KNOWN, NOW, 90)
    assert "*" in _uses(report)
    assert report.suggested_policy is not None
    assert deny in report.suggested_policy["Statement"]
    assert broad in report.suggested_policy["Statement"]
    assert any("NotAction" in note for note in report.notes)


def test_nothing_used_suggests_no_policy() -> None:
    report = last_accessed([_policy(_allow("s3:GetObject"))], [], KNOWN, NOW, 90)
    assert report.suggested_policy is None
    assert report.notes


def test_repeated_sids_across_policies_are_made_unique() -> None:
    documents = [_policy(_allow("s3:GetObject")), _policy(_allow("sqs:SendMessage"))]
    events = [authorize(CALLER, "s3:GetObject", NOW), authorize(CALLER, "sqs:SendMessage", NOW)]
    policy = last_accessed(documents, events, KNOWN, NOW, 90).suggested_policy
    assert policy is not None
    sids = [s["Sid"] for s in policy["Statement"]]
    assert len(set(sids)) == 2
    assert _errors(policy) == []


def test_policy_services_reads_plain_prefixes_only() -> None:
    documents = [
        _policy(_allow(["s3:GetObject", "s*:List*", "*"]), {"Effect": "Deny", "NotAction": "IAM:*"})
    ]
    assert policy_services(documents) == {"s3", "iam"}


def test_a_principal_without_grants_says_so() -> None:
    report = last_accessed([], [authorize(CALLER, "s3:GetObject", NOW)], KNOWN, NOW, 90)
    assert report.services == ()
    assert report.suggested_policy is None
    assert any("grant no service" in note for note in report.notes)
