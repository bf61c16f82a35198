"""The encoding agrees with the engine request by request: for a concrete request of the
universe, the formula with every variable fixed to that request is satisfiable exactly when
``broker.policy`` allows it. This pins each rule of the encoding (a wrong absent-key rule, a
dropped pattern, a lost Deny) to a counterexample, both ways."""

from __future__ import annotations

import ipaddress
from typing import Any

import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.analyzer.encode import decision
from broker.analyzer.external import witness_policies
from broker.analyzer.support import check_support
from broker.analyzer.symbolic import IpKey, PrincipalShape, StrKey, SymbolicRequest
from broker.policy import Policy, PolicySet, Request, compile_policy_set
from broker.policy.principals import caller_of
from tests.unit.analyzer.test_properties import document, target
from tests.unit.analyzer.universe import HOME, ORG, OUTSIDERS, SIBLING, requests

STRIDE = 37  # check every 37th request of the universe, from a drawn offset
UNIVERSE = {
    kind: list(requests(kind, (SIBLING, *OUTSIDERS), (None, ORG, "o-other"), HOME))
    for kind in ("trust", "resource")
}


def _names(request: Request, kind: str) -> dict[str, str]:
    """The name parts of an IAM caller's ARN, as ``SymbolicRequest`` splits them."""
    if kind not in ("user", "role", "federated_user", "role_session"):
        return {}
    rest = request.principal_arn.split(":", 5)[5]
    if kind == "role_session":
        _, role, session = rest.split("/", 2)
        return {"r.role": role, "r.name": session}
    return {"r.name": rest.split("/", 1)[1]}


def encoded(policy: Policy, request: Request) -> bool:
    """The formula's truth value with every variable replaced by the request's value."""
    caller = caller_of(request.principal_arn, request.principal_account, None)
    kind = caller.kind
    name = request.principal_arn if kind == "external" else ""
    symbolic = SymbolicRequest(PrincipalShape(kind, name), check_support(policy).key_types)  # type: ignore[arg-type]
    formula = z3.And(decision(policy, symbolic), *symbolic.constraints)
    context = {k.lower(): v for k, v in request.context.items()}
    org = context.get("aws:principalorgid")
    strings = {
        "r.action": request.action,
        "r.resource": request.resource,
        "r.account": request.principal_account,
        "r.org": org if isinstance(org, str) else "o-unused",
        **_names(request, kind),
    }
    values: list[tuple[z3.ExprRef, z3.ExprRef]] = [
        (z3.String(k), z3.StringVal(v)) for k, v in strings.items()
    ]
    values.append((symbolic.org_present, z3.BoolVal(org is not None)))
    for key_name, key in symbolic.keys.items():
        if key_name in ("aws:principalarn", "aws:principalaccount", "aws:principalorgid"):
            continue  # bound to the caller
        value = context.get(key_name)
        values.append((key.present, z3.BoolVal(value is not None)))
        text = value if isinstance(value, str) else ""
        if isinstance(key, StrKey):
            values.append((key.value, z3.StringVal(text)))
            continue
        assert isinstance(key, IpKey)
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(
                text
            )
        except ValueError:
            address = None
        values += [
            (key.malformed, z3.BoolVal(address is None)),
            (key.v6, z3.BoolVal(address is not None and address.version == 6)),
            (
                key.v4_bits,
                z3.BitVecVal(int(address) if address and address.version == 4 else 0, 32),
            ),
            (
                key.v6_bits,
                z3.BitVecVal(int(address) if address and address.version == 6 else 0, 128),
            ),
        ]
    result = z3.simplify(z3.substitute(formula, *values))
    assert z3.is_true(result) or z3.is_false(result), result
    return bool(z3.is_true(result))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["trust", "resource"]).flatmap(lambda k: st.tuples(st.just(k), document(k))),
    st.data(),
)
def test_encoding_agrees_with_the_engine(
    kind_and_doc: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    kind, doc = kind_and_doc
    policy = target(kind, doc).policy
    compiled = compile_policy_set(witness_policies(PolicySet(resource=[policy])))
    universe = UNIVERSE[kind]
    start = data.draw(st.integers(0, STRIDE - 1))
    for request in universe[start::STRIDE]:
        assert encoded(policy, request) == compiled.evaluate(request).allowed, (request, doc)
