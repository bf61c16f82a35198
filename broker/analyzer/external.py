"""Zelkova's question for one policy: can a principal outside the zone of trust get Allow?

For each shape of caller (IAM principals of an outside account, each named web-identity or
SAML provider not in the zone, the anonymous caller) the solver is asked for a request the
policy allows; a model is a finding, re-evaluated by ``broker.policy.evaluate`` before it is
reported. A construct the encoding leaves out (``support``) is a free unknown, so the formula
over-approximates what the policy allows: "no external access" is said only when every shape
is unsatisfiable even so, and a model the engine refuses makes the answer "cannot decide: uses
X", never "no external access".

The outsider's own identity policies are theirs to write, so the witness is evaluated with
them allowing everything (and, for a federated user, a session policy allowing everything).
AWS service principals (``Service``) and identity providers defined in a zone account count
as inside.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import z3

from broker.analyzer.budget import (
    QUICK_RLIMIT,
    SOLVER_RLIMIT,
    bounded_solver,
    gave_up,
    own_context,
)
from broker.analyzer.encode import decision, is_one_of
from broker.analyzer.globs import ascii_string
from broker.analyzer.guess import guesses
from broker.analyzer.real_names import readable_witness
from broker.analyzer.support import KeyType, check_support
from broker.analyzer.symbolic import IAM_SHAPES, PrincipalShape, SymbolicRequest
from broker.analyzer.targets import Target, Zone, outside_names
from broker.policy import PolicySet, Request, compile_policy_set, evaluate, parse_policy
from broker.policy.principals import caller_of

__all__ = ["Analysis", "Witness", "analyze", "disagreement", "witness_policies"]

Status = Literal["external", "none", "undecided"]
_ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


@dataclass(frozen=True, slots=True)
class Witness:
    """A concrete request the policy allows, and the caller's shape."""

    shape: str
    request: Request

    def to_json(self) -> dict[str, object]:
        r = self.request
        return {
            "principal": r.principal_arn,
            "principal_kind": self.shape,
            "principal_account": r.principal_account or None,
            "action": r.action,
            "resource": r.resource,
            "context": dict(r.context),
        }


@dataclass(frozen=True, slots=True)
class Analysis:
    """The answer for one target: ``external`` with witnesses, ``none``, or ``undecided``
    with the reasons (constructs not encoded, or the solver giving up)."""

    target: Target
    status: Status
    witnesses: tuple[Witness, ...] = ()
    reasons: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.target.name,
            "kind": self.target.kind,
            "resource": self.target.resource,
            "account": self.target.account,
            "status": self.status,
            "findings": [w.to_json() for w in self.witnesses],
            "cannot_decide": list(self.reasons),
        }


def disagreement(kind: str, constructs: tuple[str, ...]) -> str:
    """Why a model the engine refuses leaves the question open."""
    if constructs:
        return f"cannot decide for {kind} callers: uses {', '.join(constructs)}"
    return f"cannot decide: the encoding and the engine disagree on a {kind} caller"


def witness_policies(target_policy_set: PolicySet) -> PolicySet:
    """The witness's policy set: the target's resource side, the outsider allowing itself."""
    allow_all = parse_policy(_ALLOW_ALL, kind="identity", name="outsider's own policy")
    session = parse_policy(_ALLOW_ALL, kind="session", name="outsider's session policy")
    return PolicySet(identity=[allow_all], resource=target_policy_set.resource, session=session)


def _shapes(target: Target, zone: Zone) -> Iterable[PrincipalShape]:
    yield from (PrincipalShape(kind) for kind in IAM_SHAPES)
    yield from (PrincipalShape("external", name) for name in outside_names(target, zone))
    yield PrincipalShape("anonymous")


def _outside(request: SymbolicRequest, zone: Zone) -> list[z3.BoolRef]:
    if not request.iam:
        return []
    out = [z3.Not(is_one_of(request.account, zone.accounts))]
    if zone.org_id is not None:
        out.append(z3.Not(z3.And(request.org_present, is_one_of(request.org_id, [zone.org_id]))))
    return out


def _on_resource(request: SymbolicRequest, target: Target) -> z3.BoolRef:
    """A resource policy governs its resource and what is inside it (``ARN/...``)."""
    inside = z3.Concat(z3.Re(target.resource + "/"), ascii_string())
    return z3.InRe(request.resource, z3.Union(z3.Re(target.resource), inside))


def readable(request: Request, target: Target, policies: PolicySet) -> Request:
    """The same witness with a real action, a resource of the policy's (or of the action's
    type) and readable names, where the engine still allows it (the solver picks any letter
    case, any object name, any caller name)."""
    compiled = compile_policy_set(policies)
    return readable_witness(
        request,
        lambda candidate: compiled.evaluate(candidate).allowed,
        actions=[
            a
            for s in target.policy.statements
            if s.effect == "Allow" and not s.not_action
            for a in s.action_values
        ],
        resources=[target.resource] if target.kind == "resource" else [],
    )


@dataclass(frozen=True, slots=True)
class _Answer:
    """One query's verdict, its concrete witness (``sat``), or why the solver gave up."""

    verdict: z3.CheckSatResult
    request: Request | None = None
    gave_up: str = ""


def _solve(
    target: Target,
    zone: Zone,
    shape: PrincipalShape,
    key_types: dict[str, KeyType],
    rlimit: int,
) -> _Answer:
    """One query: a request from a ``shape`` caller outside ``zone`` that the policy allows."""
    with own_context():
        request = SymbolicRequest(shape, key_types)
        solver = bounded_solver(rlimit)
        solver.add(decision(target.policy, request), *_outside(request, zone))
        if target.kind == "resource":
            solver.add(_on_resource(request, target))
        solver.add(*request.constraints)
        verdict = solver.check()
        if verdict == z3.unknown:
            return _Answer(verdict, gave_up=gave_up(solver, shape.kind, rlimit))
        if verdict != z3.sat:
            return _Answer(verdict)
        fixed = target.resource if target.kind == "trust" else None
        model = solver.model()
        return _Answer(
            verdict, request.witness(model, resource_account=target.account, resource=fixed)
        )


def analyze(target: Target, zone: Zone, *, rlimit: int = SOLVER_RLIMIT) -> Analysis:
    """Decide whether anyone outside ``zone`` can access ``target``.

    Each shape first gets a short budget; the full ``rlimit`` (z3 resource units, see
    ``broker.analyzer.budget``) is spent only on shapes that could still change the answer (no
    witness found yet), so one hard shape does not stall a policy another shape already proves
    open.
    """
    support = check_support(target.policy)
    zone = zone.for_target(target)
    policies = witness_policies(PolicySet(resource=[target.policy]))
    witnesses: list[Witness] = []
    reasons: list[str] = []
    seen: set[str] = set()
    for group, guessed in guesses(target, zone, compile_policy_set(policies)):
        seen.add(group)
        kind = caller_of(guessed.principal_arn, guessed.principal_account, None).kind
        witnesses.append(Witness(kind, guessed))
    pending = list(dict.fromkeys(_shapes(target, zone)))
    for budget in (min(QUICK_RLIMIT, rlimit), rlimit):
        undecided: list[PrincipalShape] = []
        gave_up_on: list[str] = []
        for shape in pending:
            group = "iam" if shape.kind in IAM_SHAPES else f"{shape.kind}:{shape.name}"
            if group in seen:
                continue
            answer = _solve(target, zone, shape, support.key_types, budget)
            concrete = answer.request
            if answer.verdict == z3.unknown:
                undecided.append(shape)
                gave_up_on.append(answer.gave_up)
            elif concrete is not None:
                if evaluate(policies, concrete, explain=False).allowed:
                    seen.add(group)
                    witnesses.append(Witness(shape.kind, readable(concrete, target, policies)))
                else:
                    reasons.append(disagreement(shape.kind, support.reasons))
        pending = undecided
        if budget == rlimit:
            reasons += gave_up_on
            break
        if witnesses:
            reasons += [
                f"cannot decide: the solver gave up on {s.kind} callers (the first try's "
                f"{budget:,} resource units ran out; not tried further: access is already proven)"
                for s in pending
            ]
            break
    if witnesses:
        return Analysis(target, "external", tuple(witnesses), tuple(reasons))
    if reasons:
        return Analysis(target, "undecided", (), tuple(reasons))
    return Analysis(target, "none")
