"""Action and Resource matching, table-driven, plus agreement with a slow reference matcher.

Sources: IAM User Guide, "IAM JSON policy elements: Action" (actions are case-insensitive,
``*`` and ``?`` wildcards), "IAM JSON policy elements: Resource" (ARNs are case-sensitive;
wildcards may be used in any ARN segment and do not span segments; in the resource part ``*``
spans ``/``), "IAM JSON policy elements: NotAction" / "NotResource", and "IAM policy elements:
Variables and tags" (variables in Resource).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.policy import PolicySet
from broker.policy.globs import compile_glob
from broker.policy.matching import action_matcher_set, resource_matcher_set
from broker.policy.variables import parse_template
from tests.unit.policy.helpers import allow, decide, policy, request

ACTIONS = [
    ("Action > exact", "s3:GetObject", "s3:GetObject", True),
    ("Action > case-insensitive", "S3:getobject", "s3:GetObject", True),
    ("Action > * within the action name", "s3:Get*", "s3:GetObjectAcl", True),
    ("Action > ? is one character", "s3:?etObject", "s3:GetObject", True),
    ("Action > ? is exactly one character", "s3:?Object", "s3:GetObject", False),
    ("Action > * in the middle", "iam:*AccessKey*", "iam:CreateAccessKey", True),
    ("Action > the service prefix must match", "s3:Get*", "s3express:GetObject", False),
    ("Action > wildcard service", "*:Get*", "ec2:GetConsoleOutput", True),
    ("Action > * is every action", "*", "kms:Decrypt", True),
    ("Action > no partial match", "s3:Get", "s3:GetObject", False),
]


@pytest.mark.parametrize(
    ("section", "pattern", "action", "expected"), ACTIONS, ids=[c[0] for c in ACTIONS]
)
def test_action_matching(section, pattern, action, expected) -> None:
    p = policy(allow(action=pattern))
    got = decide(PolicySet(identity=[p]), request(action=action)) == "Allow"
    assert got is expected, section


RESOURCES = [
    (
        "Resource > a wildcard in the region part cannot shift the account part",
        "arn:aws:sns:*:111122223333:topic",
        "arn:aws:sns:eu-west-1:999999999999:111122223333:topic",
        False,
    ),
    ("Resource > exact ARN", "arn:aws:s3:::b/k", "arn:aws:s3:::b/k", True),
    ("Resource > ARNs are case-sensitive", "arn:aws:s3:::B/k", "arn:aws:s3:::b/k", False),
    ("Resource > * in the resource part spans /", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y/z", True),
    ("Resource > ? in the resource part", "arn:aws:s3:::b/?", "arn:aws:s3:::b/x", True),
    (
        "Resource > * in the region part stays in that part",
        "arn:aws:dynamodb:*:111122223333:table/t",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/t",
        True,
    ),
    (
        "Resource > a wildcard part cannot swallow a colon",
        "arn:aws:dynamodb:*::table/t",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/t",
        False,
    ),
    (
        "Resource > * in the resource part spans :",
        "arn:aws:logs:eu-west-1:111122223333:log-group:app*",
        "arn:aws:logs:eu-west-1:111122223333:log-group:app:log-stream:s1",
        True,
    ),
    ("Resource > bucket ARN is not its objects", "arn:aws:s3:::b", "arn:aws:s3:::b/k", False),
    ("Resource > * alone matches every resource", "*", "arn:aws:s3:::anything", True),
    ("Resource > * alone matches a non-ARN resource", "*", "*", True),
    (
        "Resource > account part wildcard",
        "arn:aws:iam::*:role/dev",
        "arn:aws:iam::111122223333:role/dev",
        True,
    ),
]


@pytest.mark.parametrize(
    ("section", "pattern", "resource", "expected"), RESOURCES, ids=[c[0] for c in RESOURCES]
)
def test_resource_matching(section, pattern, resource, expected) -> None:
    p = policy(allow(resource=pattern))
    got = decide(PolicySet(identity=[p]), request(resource=resource)) == "Allow"
    assert got is expected, section


NOT_ELEMENTS = [
    (
        "NotAction > matches every action not listed",
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        "s3:GetObject",
        True,
    ),
    (
        "NotAction > does not match a listed action",
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},
        "s3:GetObject",
        False,
    ),
    (
        "NotResource > matches every resource not listed",
        {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::other/*"},
        "s3:GetObject",
        True,
    ),
    (
        "NotResource > does not match a listed resource",
        {"Effect": "Allow", "Action": "s3:*", "NotResource": "arn:aws:s3:::example-bucket/*"},
        "s3:GetObject",
        False,
    ),
]


@pytest.mark.parametrize(
    ("section", "statement", "action", "expected"), NOT_ELEMENTS, ids=[c[0] for c in NOT_ELEMENTS]
)
def test_not_elements(section, statement, action, expected) -> None:
    got = decide(PolicySet(identity=[policy(statement)]), request(action=action)) == "Allow"
    assert got is expected, section


RESOURCE_VARIABLES = [
    (
        "Variables > substituted in Resource",
        "arn:aws:s3:::b/home/${aws:username}/*",
        "arn:aws:s3:::b/home/alice/x",
        {"aws:username": "alice"},
        True,
    ),
    (
        "Variables > another user's folder",
        "arn:aws:s3:::b/home/${aws:username}/*",
        "arn:aws:s3:::b/home/bob/x",
        {"aws:username": "alice"},
        False,
    ),
    (
        "Variables > absent key: the statement does not match",
        "arn:aws:s3:::b/home/${aws:username}/*",
        "arn:aws:s3:::b/home//x",
        {},
        False,
    ),
    (
        "Variables > a value with * is literal",
        "arn:aws:s3:::b/home/${aws:username}",
        "arn:aws:s3:::b/home/bob",
        {"aws:username": "*"},
        False,
    ),
    (
        "Variables > default value",
        "arn:aws:s3:::b/home/${aws:username, 'shared'}/*",
        "arn:aws:s3:::b/home/shared/x",
        {},
        True,
    ),
    (
        "Variables > multi-valued keys cannot be substituted",
        "arn:aws:s3:::b/${aws:TagKeys}",
        "arn:aws:s3:::b/a",
        {"aws:TagKeys": ["a"]},
        False,
    ),
]


@pytest.mark.parametrize(
    ("section", "pattern", "resource", "context", "expected"),
    RESOURCE_VARIABLES,
    ids=[c[0] for c in RESOURCE_VARIABLES],
)
def test_variables_in_resource(section, pattern, resource, context, expected) -> None:
    p = policy(allow(resource=pattern))
    got = decide(PolicySet(identity=[p]), request(resource=resource, context=context)) == "Allow"
    assert got is expected, section


def test_absent_variable_in_not_resource_does_not_widen() -> None:
    # "Policy variables with no value": the entry matches nothing; in an Allow's NotResource
    # that would widen it to every other resource, so we fail closed: the Allow does not apply.
    statement = {
        "Effect": "Allow",
        "Action": "s3:*",
        "NotResource": "arn:aws:s3:::b/${aws:username}",
    }
    assert decide(PolicySet(identity=[policy(statement)]), request()) == "ImplicitDeny"


# --- agreement with a slow reference matcher ------------------------------------------------


def _ref_glob(pattern: str, text: str, colon_stops: bool) -> bool:
    """Backtracking glob: ``*`` any run, ``?`` one char; neither crosses ':' if colon_stops."""
    if not pattern:
        return not text
    head = pattern[0]
    if head == "*":
        for cut in range(len(text) + 1):
            if colon_stops and ":" in text[:cut]:
                break
            if _ref_glob(pattern[1:], text[cut:], colon_stops):
                return True
        return False
    if not text:
        return False
    if head == "?":
        if colon_stops and text[0] == ":":
            return False
        return _ref_glob(pattern[1:], text[1:], colon_stops)
    return head == text[0] and _ref_glob(pattern[1:], text[1:], colon_stops)


def reference_arn_match(pattern: str, arn: str) -> bool:
    """The Resource rule read literally: split both into six parts, glob each part. A shorter
    pattern ending in ``*``: split the ARN into as many parts, the last one is the rest and its
    wildcards span ``:``."""
    if pattern == "*":
        return True
    p_parts = pattern.split(":", 5)
    count = len(p_parts)
    if count < 6 and not pattern.endswith("*"):
        return False
    a_parts = arn.split(":", count - 1)
    if len(a_parts) != count or len(arn.split(":", 5)) != 6:
        return False
    return all(
        _ref_glob(p, a, colon_stops=(i < min(5, count - 1)))
        for i, (p, a) in enumerate(zip(p_parts, a_parts, strict=True))
    )


_CHARS = st.sampled_from(list("ab/:*?-"))
_SEGMENT = st.text(st.sampled_from(list("ab*?-")), max_size=3)
_FULL_ARN_PATTERN = st.builds(
    lambda parts, tail: "arn:" + ":".join(parts) + ":" + tail,
    st.lists(_SEGMENT, min_size=4, max_size=4),
    st.text(_CHARS, max_size=6),
)
# "Resource": a short pattern whose last segment ends in * (arn:aws:sqs:*, arn:aws:iam::*).
_SHORT_ARN_PATTERN = st.builds(
    lambda parts: "arn:" + ":".join(parts) + "*",
    st.lists(_SEGMENT, min_size=1, max_size=4),
)
_ARN_PATTERN = st.one_of(_FULL_ARN_PATTERN, _SHORT_ARN_PATTERN)
_ARN = st.builds(
    lambda parts, tail: "arn:" + ":".join(parts) + ":" + tail,
    st.lists(st.text(st.sampled_from(list("ab-")), max_size=3), min_size=4, max_size=4),
    st.text(st.sampled_from(list("ab/:-*?")), max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(_ARN_PATTERN, _ARN)
def test_resource_matcher_agrees_with_reference(pattern: str, arn: str) -> None:
    compiled = resource_matcher_set([parse_template(pattern, substitute=False)])
    assert compiled.match(arn) == reference_arn_match(pattern, arn)


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.sampled_from(list("aB:*?")), max_size=6),
    st.text(st.sampled_from(list("Ab:")), max_size=6),
)
def test_action_matcher_agrees_with_reference(pattern: str, action: str) -> None:
    compiled = action_matcher_set([pattern.lower()])
    expected = _ref_glob(pattern.lower(), action.lower(), colon_stops=False)
    assert compiled.match(action) == expected


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.sampled_from(list("ab*?:")), max_size=10),
    st.text(st.sampled_from(list("ab:")), max_size=12),
)
def test_string_like_glob_agrees_with_reference(pattern: str, value: str) -> None:
    # Patterns with several stars take the chunk matcher, others a regex: both must agree.
    compiled = compile_glob((pattern,), False)
    assert bool(compiled(value)) == _ref_glob(pattern, value, colon_stops=False)


@pytest.mark.timeout(20)
def test_many_wildcards_cannot_backtrack_catastrophically() -> None:
    # A regex for this pattern needs ~n^12 steps on a near-miss; the chunk matcher is linear.
    pattern = "arn:aws:s3:::" + "a*" * 12 + "b"
    resource = "arn:aws:s3:::" + "a" * 5000
    p = policy(allow(resource=pattern), allow(action="s3:*", resource=f"{pattern}*c"))
    assert decide(PolicySet(identity=[p]), request(resource=resource)) == "ImplicitDeny"
    assert decide(PolicySet(identity=[p]), request(resource=resource + "b")) == "Allow"
    like = {"StringLike": {"s3:prefix": "x*" * 12 + "y"}}
    hostile = {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": like}
    ctx = {"s3:prefix": "x" * 5000}
    assert decide(PolicySet(identity=[policy(hostile)]), request(context=ctx)) == "ImplicitDeny"


@settings(max_examples=200, deadline=None)
@given(st.lists(_ARN_PATTERN, min_size=1, max_size=4), _ARN)
def test_a_list_of_resources_matches_if_any_does(patterns: list[str], arn: str) -> None:
    # One element's values are folded into set lookups, prefixes and one alternation.
    compiled = resource_matcher_set([parse_template(p, substitute=False) for p in patterns])
    assert compiled.tester()(arn, {}) == any(reference_arn_match(p, arn) for p in patterns)
