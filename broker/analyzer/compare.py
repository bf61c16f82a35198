"""Zelkova's headline check: does NEW allow any request that OLD does not?

Both documents are read as the same kind. For resource, trust and key policies the question is
about callers from another account and external principals (the resource policy alone decides
for them, their own identity policies allowing); for identity-like policies (identity,
boundary, session, SCP) it is the policy's own decision for a caller in the account. A witness
is a request the engine allows under NEW and refuses under OLD.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import z3

from broker.analyzer.budget import SOLVER_RLIMIT, bounded_solver, gave_up, own_context
from broker.analyzer.encode import decision, is_one_of
from broker.analyzer.external import disagreement, witness_policies
from broker.analyzer.real_names import readable_witness
from broker.analyzer.support import Support, check_support
from broker.analyzer.symbolic import IAM_SHAPES, PrincipalShape, SymbolicRequest
from broker.policy import Policy, PolicySet, Request, evaluate

__all__ = ["Comparison", "compare"]

_PRINCIPAL_KINDS = frozenset({"resource", "trust", "key"})


@dataclass(frozen=True, slots=True)
class Comparison:
    """``broader`` with a witness, ``not_broader``, or ``undecided`` with reasons."""

    status: Literal["broader", "not_broader", "undecided"]
    witness: Request | None = None
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        w = self.witness
        return {
            "status": self.status,
            "witness": None
            if w is None
            else {
                "principal": w.principal_arn,
                "principal_account": w.principal_account or None,
                "action": w.action,
                "resource": w.resource,
                "resource_account": w.resource_account,
                "context": dict(w.context),
            },
            "cannot_decide": list(self.reasons),
        }


def _values(policy: Policy, element: str) -> list[str]:
    """The Allow statements' Action or Resource values of ``policy``, in order."""
    return [
        value
        for s in policy.statements
        if s.effect == "Allow" and not s.not_action
        for value in getattr(s, element)
    ]


def _unused_account(*policies: Policy) -> str:
    """An account id neither policy mentions, to stand for the resource's account."""
    text = " ".join(
        " ".join(s.principal.accounts | s.principal.arns)
        for p in policies
        for s in p.statements
        if s.principal is not None
    )
    for n in range(10):
        candidate = str(n) * 12
        if candidate not in text:
            return candidate
    return "012345678901"


def _shapes(old: Policy, new: Policy) -> Iterable[PrincipalShape]:
    if new.kind not in _PRINCIPAL_KINDS:
        yield PrincipalShape("user")
        return
    yield from (PrincipalShape(kind) for kind in IAM_SHAPES)
    names: set[str] = set()
    for policy in (old, new):
        for statement in policy.statements:
            if statement.principal is not None:
                names |= statement.principal.external
    yield from (PrincipalShape("external", name) for name in sorted(names))
    yield PrincipalShape("anonymous")


def _policy_set(policy: Policy) -> PolicySet:
    if policy.kind in _PRINCIPAL_KINDS:
        return witness_policies(PolicySet(resource=[policy]))
    return PolicySet(identity=[policy])


def _solve(
    old: Policy, new: Policy, shape: PrincipalShape, support: Support, account: str, rlimit: int
) -> Request | str | None:
    """One query in a z3 context of its own: the solver's witness (a request NEW allows and OLD
    refuses), why it gave up (text), or ``None`` when there is none for ``shape`` callers."""
    with own_context():
        request = SymbolicRequest(shape, support.key_types)
        solver = bounded_solver(rlimit)
        solver.add(decision(new, request), z3.Not(decision(old, request)), *request.constraints)
        if request.iam:
            same = is_one_of(request.account, [account])
            solver.add(same if new.kind not in _PRINCIPAL_KINDS else z3.Not(same))
        verdict = solver.check()
        if verdict == z3.unknown:
            return gave_up(solver, shape.kind, rlimit)
        if verdict == z3.unsat:
            return None
        resource = f"arn:aws:iam::{account}:role/compared" if new.kind == "trust" else None
        return request.witness(solver.model(), resource_account=account, resource=resource)


def compare(old: Policy, new: Policy, *, rlimit: int = SOLVER_RLIMIT) -> Comparison:
    """Whether ``new`` allows some request ``old`` does not, with a witness; each query may
    spend ``rlimit`` z3 resource units (``broker.analyzer.budget``)."""
    support = check_support(old, new)
    account = _unused_account(old, new)
    reasons: list[str] = []
    old_set, new_set = _policy_set(old), _policy_set(new)
    for shape in _shapes(old, new):
        witness = _solve(old, new, shape, support, account, rlimit)
        if isinstance(witness, str):
            reasons.append(witness)
            continue
        if witness is None:
            continue

        def still(candidate: Request) -> bool:
            return (
                evaluate(new_set, candidate, explain=False).allowed
                and not evaluate(old_set, candidate, explain=False).allowed
            )

        if still(witness):
            named = readable_witness(
                witness,
                still,
                actions=_values(new, "action_values"),
                resources=_values(new, "resource_values"),
            )
            return Comparison("broader", named, tuple(reasons))
        reasons.append(disagreement(shape.kind, support.reasons))
    if reasons:
        return Comparison("undecided", None, tuple(reasons))
    return Comparison("not_broader")
