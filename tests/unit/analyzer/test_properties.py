"""The analyzer against brute force, on generated policies (hypothesis).

Over a small universe of outside callers, actions, resources and context values, the engine
is the oracle: if any request of the universe is allowed, the analyzer must report external
access (it may never say "no external access" wrongly); every witness it reports must be
allowed by the engine. The same for ``compare``: a request NEW allows and OLD refuses means
"broader". Each query has a counted budget (``broker.analyzer.budget``; no wall-clock limit
involved) and the examples are fixed, so which of them end "undecided" (a sound answer) is the
same on every run and on any machine.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.analyzer.compare import compare
from broker.analyzer.external import analyze, witness_policies
from broker.analyzer.targets import Target, Zone, target_from_document
from broker.policy import PolicySet, compile_policy_set, evaluate, parse_policy
from tests.unit.analyzer.universe import (
    BUCKET,
    HOME,
    ORG,
    OUTSIDERS,
    ROLE_ARN,
    SIBLING,
    WEB_IDP,
    allowed_from_outside,
    requests,
)

TEST_RLIMIT = 10_000_000
"""Each query's budget here: a tenth of the default, so one hard generated policy costs
seconds, not minutes (z3 runs in C: neither hypothesis nor pytest's timeout can stop it)."""

BOUNDED: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow],
    # The same examples on every run: with a counted solver budget the whole test is then
    # reproducible, so a policy too hard for the budget fails every run, never now and then.
    "derandomize": True,
}

ZONE = Zone("organization", frozenset({HOME, SIBLING}), ORG)
OUT = OUTSIDERS[0]
PRINCIPALS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": OUT},
    {"AWS": SIBLING},
    {"AWS": f"arn:aws:iam::{OUT}:role/deploy"},
    {"AWS": f"arn:aws:iam::{OUT}:user/alice"},
    {"AWS": [f"arn:aws:sts::{OUT}:assumed-role/deploy/s1", OUT]},
    {"Federated": WEB_IDP},
    {"AWS": list(OUTSIDERS)},
]
ACTIONS = ["*", "sts:*", "sts:AssumeRole", "s3:Get*", "s3:?utObject", "S3:GetObject"]
RESOURCES = ["*", f"{BUCKET}/*", BUCKET, "arn:aws:s3:::*/a.txt", "arn:aws:s3:*:*:example-*"]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringEquals": {"aws:PrincipalAccount": [OUT, SIBLING]}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}},
    {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OUT}:*"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}},
    {"StringEquals": {"aws:SourceVpc": "vpc-1111"}},
    {"StringEquals": {"aws:SourceVpc": ["vpc-1111", "vpc-2222"]}},
    {"StringNotEquals": {"sts:ExternalId": ["ext-1", "EXT-2"]}},
    {"StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-2222"}},
    {"Null": {"sts:ExternalId": "false"}},
    {"Null": {"aws:PrincipalOrgID": "true"}},
    {"StringLike": {"sts:ExternalId": "ext-*"}},
    {"StringEqualsIgnoreCase": {"sts:ExternalId": "ext-2"}},
]


def statement(effect: str, kind: str) -> st.SearchStrategy[dict[str, Any]]:
    parts: dict[str, Any] = {
        "Effect": st.just(effect),
        "Action": st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True),
        "Principal": st.sampled_from(PRINCIPALS),
    }
    if kind == "resource":
        parts["Resource"] = st.lists(
            st.sampled_from(RESOURCES), min_size=1, max_size=2, unique=True
        )
    not_keys = st.sampled_from([(), ("Action",), ("Principal",), ("Resource",)])
    conditions = st.lists(st.sampled_from(CONDITIONS), max_size=2)

    def build(args: tuple[dict[str, Any], tuple[str, ...], list[dict[str, Any]]]) -> dict[str, Any]:
        base, negate, extra = args
        out = dict(base)
        for key in negate:
            trust_principal = key == "Principal" and kind == "trust"
            if (
                key in out
                and not (key == "Principal" and effect == "Allow")
                and not trust_principal
            ):
                out[f"Not{key}"] = out.pop(key)
        block: dict[str, Any] = {}
        for condition in extra:
            for operator, keys in condition.items():
                block.setdefault(operator, {}).update(keys)
        if block:
            out["Condition"] = block
        return out

    return st.tuples(st.fixed_dictionaries(parts), not_keys, conditions).map(build)


def document(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    one = st.sampled_from(["Allow", "Allow", "Deny"]).flatmap(lambda e: statement(e, kind))
    return st.lists(one, min_size=1, max_size=3).map(
        lambda statements: {"Version": "2012-10-17", "Statement": statements}
    )


def target(kind: str, doc: dict[str, Any]) -> Target:
    arn = ROLE_ARN if kind == "trust" else BUCKET
    return target_from_document("generated", kind, arn, HOME, doc)  # type: ignore[arg-type]


def check(kind: str, doc: dict[str, Any]) -> None:
    subject = target(kind, doc)
    result = analyze(subject, ZONE, rlimit=TEST_RLIMIT)
    # "undecided" is a sound answer (it never claims "no external access"); with a counted
    # budget and fixed examples, which policies end undecided is the same on every run.
    brute = allowed_from_outside(subject.policy)
    if brute is not None:
        assert result.status in ("external", "undecided"), (brute, doc)
    policies = witness_policies(PolicySet(resource=[subject.policy]))
    for witness in result.witnesses:
        assert evaluate(policies, witness.request, explain=False).allowed
        assert witness.request.principal_account not in (HOME, SIBLING)
        context = {k.lower(): v for k, v in witness.request.context.items()}
        assert context.get("aws:principalorgid") != ORG


@settings(max_examples=60, **BOUNDED)
@given(document("trust"))
def test_trust_policies_agree_with_brute_force(doc: dict[str, Any]) -> None:
    check("trust", doc)


@settings(max_examples=60, **BOUNDED)
@given(document("resource"))
def test_resource_policies_agree_with_brute_force(doc: dict[str, Any]) -> None:
    check("resource", doc)


@settings(max_examples=40, **BOUNDED)
@given(document("resource"), document("resource"))
def test_compare_agrees_with_brute_force(old_doc: dict[str, Any], new_doc: dict[str, Any]) -> None:
    old = parse_policy(old_doc, kind="resource")
    new = parse_policy(new_doc, kind="resource")
    result = compare(old, new, rlimit=TEST_RLIMIT)
    if result.witness is not None:
        old_set = witness_policies(PolicySet(resource=[old]))
        new_set = witness_policies(PolicySet(resource=[new]))
        assert evaluate(new_set, result.witness, explain=False).allowed
        assert not evaluate(old_set, result.witness, explain=False).allowed
    old_set = compile_policy_set(witness_policies(PolicySet(resource=[old])))
    new_set = compile_policy_set(witness_policies(PolicySet(resource=[new])))
    # compare's universe is callers from other accounts than the resource's: the brute force
    # uses every account but HOME (which compare may pick as the resource's account).
    for request in requests("resource", (SIBLING, *OUTSIDERS), (None, ORG), HOME):
        if new_set.evaluate(request).allowed and not old_set.evaluate(request).allowed:
            assert result.status == "broader", (request, old_doc, new_doc)
            break
