"""What the fast path remembers and skips never changes an answer: the resource index leaves out
only statements whose Resource cannot match, a Resource with policy variables matches as a fresh
resolution would however its remembered globs were filled, a condition answers a repeated value
as it answered it the first time, and a request read from a batch is the same frozen value the
constructor makes."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.policy import PolicySet, Request, compile_policy_set, evaluate, parse_policy
from broker.policy.cases import read_cases
from broker.policy.matching import resource_matcher_set
from broker.policy.resource_index import ResourceIndex
from broker.policy.statements import Statement
from broker.policy.variables import parse_template
from tests.unit.policy.helpers import ACCOUNT, ALICE
from tests.unit.policy.test_properties import SETTINGS

PATTERNS = [
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::b?/k*",
    "arn:aws:s3:::*/k",
    "arn:aws:s3:::b/*/x-*.csv",
    "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:s3:::${aws:username}/*",
    "arn:aws:sqs:*",
    "arn:aws:sqs:us-east-1:*",
    "arn:aws:iam::*",
    f"arn:aws:iam::{ACCOUNT}:role/r-?",
    f"arn:aws:ec2:*:{ACCOUNT}:instance/*",
]
RESOURCES = [
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::b/alice/k",
    "arn:aws:s3:::alice/k",
    "arn:aws:s3:::bb/kk",
    "arn:aws:s3:::b/d/x-1.csv",
    "arn:aws:s3:::c/k",
    "arn:aws:sqs:us-east-1:111122223333:q",
    "arn:aws:sqs:eu-west-1:111122223333:q",
    f"arn:aws:iam::{ACCOUNT}:role/r-1",
    f"arn:aws:iam::{ACCOUNT}:role/r-10",
    f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-1",
    "arn:aws:s3",
    "",
]
CONTEXTS = [{}, {"aws:username": "alice"}, {"aws:username": "b"}, {"aws:username": ["alice"]}]

statement_docs = st.builds(
    lambda effect, element, patterns: {
        "Effect": effect,
        "Action": "s3:GetObject",
        element: patterns,
    },
    st.sampled_from(["Allow", "Deny"]),
    st.sampled_from(["Resource", "Resource", "NotResource"]),
    st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3, unique=True),
)


def _statements(docs: list[dict]) -> list[Statement]:
    policy = parse_policy({"Version": "2012-10-17", "Statement": docs})
    return list(policy.statements)


@SETTINGS
@given(
    st.lists(statement_docs, min_size=1, max_size=12),
    st.sampled_from(RESOURCES),
    st.sampled_from(CONTEXTS),
)
def test_the_resource_index_never_leaves_out_a_statement_that_matches(
    docs, resource, context
) -> None:
    statements = _statements(docs)
    index = ResourceIndex(statements, lambda statement: statement)
    found = {id(statement) for statement in index.find(resource)}
    for statement in statements:
        assert statement.resources is not None
        applies = statement.resources.match(resource, context) != statement.not_resource
        if applies:
            assert id(statement) in found, (statement.resources, resource)


def test_the_resource_index_leaves_out_statements_about_other_resources() -> None:
    docs = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b{n}/*"}
        for n in range(10)
    ]
    statements = _statements(docs)
    found = ResourceIndex(statements, lambda statement: statement).find("arn:aws:s3:::b3/k")
    assert [statement.index for statement in found] == [3]


def test_a_resource_with_variables_matches_as_a_fresh_resolution_for_each_value() -> None:
    pattern = "arn:aws:s3:::b/${aws:username}/*"
    kept = resource_matcher_set([parse_template(pattern, substitute=True)])
    for _ in range(2):  # the second round is answered from the remembered globs
        for context in CONTEXTS:
            for resource in RESOURCES:
                fresh = resource_matcher_set([parse_template(pattern, substitute=True)])
                assert kept.match(resource, context) == fresh.match(resource, context)
    assert kept.match("arn:aws:s3:::b/alice/k", {"aws:username": "alice"})
    assert not kept.match("arn:aws:s3:::b/alice/k", {"aws:username": "b"})
    # A value that is not in normal form (a list) is resolved as it stands, and kept nowhere.
    assert not kept.match("arn:aws:s3:::b/alice/k", {"aws:username": ["alice"]})  # type: ignore[dict-item]


_NEW_YEAR = "2030-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "10.1.2.3", "Allow"),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "192.0.2.1", "ImplicitDeny"),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "not-an-address", "ImplicitDeny"),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, "not-an-address", "ImplicitDeny"),
        (
            {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
            "2029-12-31T23:59:59Z",
            "Allow",
        ),
        (
            {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
            "2030-01-01T00:00:00Z",
            "ImplicitDeny",
        ),
        ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, "60", "Allow"),
        ({"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}, "seven", "ImplicitDeny"),
    ],
)
def test_a_condition_answers_a_repeated_value_as_it_did_the_first_time(
    condition, value, expected
) -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}
        ],
    }
    policies = PolicySet(identity=[parse_policy(doc)])
    (key,) = next(iter(condition.values()))
    request = Request("s3:GetObject", "arn:aws:s3:::b/k", ALICE, ACCOUNT, ACCOUNT, {key: value})
    compiled = compile_policy_set(policies)
    answers = [compiled.decide(request) for _ in range(3)]
    assert answers == [expected] * 3
    assert evaluate(policies, request).decision == expected


def test_a_request_read_from_a_batch_is_the_value_the_constructor_makes() -> None:
    raw = {
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "principal_arn": ALICE,
        "principal_account": ACCOUNT,
        "resource_account": ACCOUNT,
        "context": {"aws:SecureTransport": True, "AWS:UserName": "alice", "aws:TagKeys": ["a", 1]},
    }
    cases, _ = read_cases(json.loads(json.dumps({"requests": [raw, raw]})))
    first, second = cases[0].requests
    assert isinstance(first, Request)
    expected = Request(
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        ALICE,
        ACCOUNT,
        ACCOUNT,
        {"aws:securetransport": "true", "aws:username": "alice", "aws:tagkeys": ("a", "1")},
        None,
    )
    assert first == expected
    assert second == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.action = "s3:PutObject"  # type: ignore[misc]
