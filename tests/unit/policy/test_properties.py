"""Invariants of the evaluation logic, over generated policies and requests (hypothesis).

* Adding a Deny never yields Allow ([DA]: an explicit deny in any policy overrides any allow).
* A permissions boundary, an SCP or RCP level or a session policy never widens ([PB], [SCP], [SP]:
  they set maximum permissions and never grant). For a session policy the baseline is a
  session policy allowing everything (a federated user without one has no permissions).
* The order of statements and of policies never matters (no rule in the docs depends on it).
* ``explain=True`` and ``explain=False`` always reach the same decision.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from broker.policy import Policy, PolicySet, Request, compile_policy_set, evaluate, parse_policy
from tests.unit.policy.helpers import ACCOUNT, ALICE, OTHER, ROLE, SESSION

ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:*", "s3:Get*", "ec2:*", "*", "sts:AssumeRole"]
RESOURCES = [
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::other/*",
    "arn:aws:s3:::b/${aws:username}",
]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:username": "alice"}},
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": ["b*"]}},
    {"Null": {"aws:username": "true"}},
    {"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "red"}},
]
FED = f"arn:aws:sts::{ACCOUNT}:federated-user/alice"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
PRINCIPALS: list[Any] = [
    "*",
    {"AWS": ALICE},
    {"AWS": ACCOUNT},
    {"AWS": ROLE},
    {"AWS": SESSION},
    {"AWS": OTHER},
    {"AWS": FED},
]


def statement(
    effect: str, with_principal: bool, trust: bool = False, rcp: bool = False
) -> st.SearchStrategy[dict]:
    parts: dict[str, Any] = {
        "Effect": st.just(effect),
        "Action": st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True),
    }
    if not trust:
        parts["Resource"] = st.lists(
            st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True
        )
    if with_principal:
        parts["Principal"] = st.just("*") if rcp else st.sampled_from(PRINCIPALS)
    base = st.fixed_dictionaries(parts)
    return st.tuples(base, st.none() | st.sampled_from(CONDITIONS)).map(
        lambda pair: {**pair[0], **({"Condition": pair[1]} if pair[1] else {})}
    )


def policy_doc(kind: str) -> st.SearchStrategy[Policy]:
    with_principal = kind in ("resource", "key", "trust", "rcp")
    one = st.sampled_from(["Allow", "Deny"]).flatmap(
        lambda e: statement(e, with_principal, kind == "trust", kind == "rcp")
    )
    return st.lists(one, min_size=1, max_size=3).map(
        lambda sts: parse_policy({"Version": "2012-10-17", "Statement": sts}, kind=kind)  # type: ignore[arg-type]
    )


policy_sets = st.builds(
    PolicySet,
    identity=st.lists(policy_doc("identity"), max_size=3),
    resource=st.lists(policy_doc("resource"), max_size=1) | st.lists(policy_doc("key"), max_size=1),
    boundary=st.none() | policy_doc("boundary"),
    scp_hierarchy=st.lists(st.lists(policy_doc("scp"), min_size=1, max_size=2), max_size=2),
    session=st.none() | policy_doc("session"),
    management_account=st.booleans(),
)

contexts = st.fixed_dictionaries(
    {},
    optional={
        "aws:username": st.sampled_from(["alice", "bob"]),
        "aws:MultiFactorAuthPresent": st.booleans(),
        "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.7"]),
        "aws:TagKeys": st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
        "aws:PrincipalTag/team": st.sampled_from(["red", "blue"]),
    },
)
requests = st.builds(
    lambda principal, action, resource, cross, context: Request(
        action,
        resource,
        principal,
        ACCOUNT,
        OTHER if cross else ACCOUNT,
        {**context, **({"aws:PrincipalArn": ROLE} if principal == SESSION else {})},
    ),
    st.sampled_from([ALICE, SESSION, ROOT, FED]),
    st.sampled_from(["s3:GetObject", "s3:PutObject", "ec2:RunInstances"]),
    st.sampled_from(["arn:aws:s3:::b/k", "arn:aws:s3:::b/alice", "arn:aws:s3:::other/x"]),
    st.booleans(),
    contexts,
)
denies = st.builds(
    lambda sts: parse_policy({"Version": "2012-10-17", "Statement": sts}),
    st.lists(statement("Deny", False), min_size=1, max_size=2),
)
ALLOW_ALL = parse_policy(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    kind="session",
)
SETTINGS = settings(max_examples=100, deadline=None)


def allowed(policies: PolicySet, request: Request) -> bool:
    return compile_policy_set(policies).evaluate(request).allowed


@SETTINGS
@given(policy_sets, requests, denies)
def test_adding_a_deny_never_yields_allow(policies, request, extra) -> None:
    widened = replace(policies, identity=[*policies.identity, extra])
    if allowed(widened, request):
        assert allowed(policies, request)
    if evaluate(policies, request).decision == "ExplicitDeny":
        assert evaluate(widened, request).decision == "ExplicitDeny"


@SETTINGS
@given(policy_sets, requests, policy_doc("boundary"))
def test_a_boundary_never_widens(policies, request, boundary) -> None:
    if allowed(replace(policies, boundary=boundary), request):
        assert allowed(replace(policies, boundary=None), request)


@SETTINGS
@given(policy_sets, requests, st.lists(policy_doc("scp"), min_size=1, max_size=2))
def test_an_scp_level_never_widens(policies, request, level) -> None:
    deeper = replace(policies, scp_hierarchy=[*policies.scp_hierarchy, level])
    if allowed(deeper, request):
        assert allowed(policies, request)


@SETTINGS
@given(policy_sets, requests, st.lists(policy_doc("rcp"), min_size=1, max_size=2))
def test_an_rcp_level_never_widens(policies, request, level) -> None:
    deeper = replace(policies, rcp_hierarchy=[*policies.rcp_hierarchy, level])
    if allowed(deeper, request):
        assert allowed(policies, request)


@SETTINGS
@given(policy_sets, requests, policy_doc("session"))
def test_a_session_policy_never_widens(policies, request, session) -> None:
    if allowed(replace(policies, session=session), request):
        assert allowed(replace(policies, session=ALLOW_ALL), request)


def _shuffled(policy: Policy, rng: random.Random) -> Policy:
    statements = list(policy.statements)
    rng.shuffle(statements)
    return replace(policy, statements=tuple(statements))


@SETTINGS
@given(policy_sets, requests, st.integers(0, 2**32))
def test_order_of_statements_and_policies_never_matters(policies, request, seed) -> None:
    rng = random.Random(seed)

    def mix(items):
        out = [_shuffled(p, rng) for p in items]
        rng.shuffle(out)
        return out

    shuffled = replace(
        policies,
        identity=mix(policies.identity),
        resource=mix(policies.resource),
        scp_hierarchy=[mix(level) for level in policies.scp_hierarchy],
        boundary=policies.boundary and _shuffled(policies.boundary, rng),
        session=policies.session and _shuffled(policies.session, rng),
    )
    assert evaluate(shuffled, request).decision == evaluate(policies, request).decision


@SETTINGS
@given(policy_sets, st.lists(requests, min_size=1, max_size=4))
def test_explain_and_fast_path_always_agree(policies, batch) -> None:
    compiled = compile_policy_set(policies)
    for request in batch:  # the compiled set caches per action: evaluate it repeatedly
        slow = evaluate(policies, request, explain=True)
        fast = compiled.evaluate(request, explain=False)
        assert (fast.decision, fast.allowed) == (slow.decision, slow.allowed)
        assert slow.explanation[-1]["decision"] == slow.decision
