"""AWS's policy evaluation logic (IAM User Guide, "Policy evaluation logic", "How AWS
enforcement code logic evaluates requests to allow or deny access", "Cross-account policy
evaluation logic", "Permissions boundaries for IAM entities", "Session policies", "Service
control policies").

The flow, as one pure function of (policies, request):

1. An explicit Deny that applies, in any policy that applies, wins.
2. SCPs (unless the caller is in the management account, or is not an IAM principal): every
   level of the organization path must have an Allow, else implicit deny. They bind a member
   account's root user and never grant.
3. Resource-based policies. Same account: a grant naming the caller's user ARN, role-session
   ARN, federated-user ARN, or ``*`` is final; a grant naming the *role* ARN is added to the
   identity side and still bounded by the permissions boundary and session policy; a grant
   naming the *account* only delegates to the identity side. Trust and key policies must allow
   (directly, or by naming the account); identity policies alone are not enough.
4. Identity-based policies must allow (the root user needs none in its own account).
5. The permissions boundary (users and roles) must allow.
6. The session policy (role sessions, federated users) must allow; a federated user without one
   has no permissions.
7. Cross-account: the caller's side (4–6) and the resource policy must both allow.

``NotPrincipal`` with ``Deny`` always applies to a principal that has a permissions boundary
("Permissions boundaries for IAM entities", the Important note).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from broker.policy.explain import Trace
from broker.policy.grammar import Policy, Statement
from broker.policy.principals import Caller, GrantKind, caller_of
from broker.policy.request import ContextInput, Decision, PolicySet, Request
from broker.policy.variables import ContextValue

__all__ = ["CompiledPolicySet", "compile_policy_set", "evaluate", "normalise_context"]

_DIRECT: frozenset[GrantKind] = frozenset({"user", "session", "federated_user", "wildcard"})
_IAM_CALLERS = frozenset({"root", "user", "role", "role_session", "federated_user"})
_CACHE_LIMIT = 4096
_BOUNDED = frozenset({"user", "role", "role_session", "federated_user"})
_SESSIONS = frozenset({"role", "role_session", "federated_user"})

Entry = tuple[int, Statement]  # (policy index within its layer, statement)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalise_context(context: ContextInput) -> dict[str, ContextValue]:
    """Lower-case keys; booleans and numbers as IAM's strings; sequences as tuples."""
    out: dict[str, ContextValue] = {}
    for key, value in context.items():
        if isinstance(value, str | bool | int | float):
            out[key.lower()] = _scalar(value)
        else:
            out[key.lower()] = tuple(_scalar(v) for v in value)
    return out


@dataclass(frozen=True, slots=True)
class _Plan:
    """Per action: SCP denies (all levels), SCP allows per level, and (deny, allow) statements
    of the resource, identity, boundary and session layers."""

    scp_deny: tuple[Statement, ...]
    scp_allow: tuple[tuple[Statement, ...], ...]
    layers: tuple[tuple[tuple[Statement, ...], tuple[Statement, ...]], ...]


@dataclass(slots=True)
class _Req:
    action: str
    resource: str
    context: dict[str, ContextValue]
    caller: Caller
    has_boundary: bool


class _Layer:
    """The statements of one layer, indexed by service prefix, with a per-action cache."""

    __slots__ = ("_by_service", "_cache", "_wild", "name", "policies")

    def __init__(self, name: str, policies: Sequence[Policy]) -> None:
        self.name = name
        self.policies = tuple(policies)
        self._by_service: dict[str, list[Entry]] = {}
        self._wild: list[Entry] = []
        self._cache: dict[str, tuple[tuple[Entry, ...], tuple[Entry, ...]]] = {}
        for number, policy in enumerate(self.policies):
            for statement in policy.statements:
                if statement.services is None:
                    self._wild.append((number, statement))
                else:
                    for service in dict.fromkeys(statement.services):
                        self._by_service.setdefault(service, []).append((number, statement))

    def candidates(self, action: str) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
        """(deny, allow) statements whose Action/NotAction covers ``action``, in order."""
        found = self._cache.get(action)
        if found is not None:
            return found
        service = action.partition(":")[0]
        pool = self._by_service.get(service, []) + self._wild
        pool.sort(key=lambda e: (e[0], e[1].index))
        hits = [e for e in pool if e[1].actions.match(action) != e[1].not_action]
        found = (
            tuple(e for e in hits if e[1].effect == "Deny"),
            tuple(e for e in hits if e[1].effect == "Allow"),
        )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[action] = found
        return found


def _why_not(statement: Statement, r: _Req, explain: bool) -> str | None:
    """None when the statement applies to the request (beyond its action), else why not."""
    context = r.context
    for key in statement.required_keys:
        if not isinstance(context.get(key), str):
            return f"policy variable ${{{key}}} is absent (or multi-valued)" if explain else ""
    resources = statement.resources
    if resources is not None and resources.match(r.resource, context) == statement.not_resource:
        if not explain:
            return ""
        element = "NotResource" if statement.not_resource else "Resource"
        verb = "lists" if statement.not_resource else "does not match"
        return f"{element} {verb} {r.resource}"
    spec = statement.principal
    if spec is not None:
        if statement.not_principal:
            applies = (r.has_boundary and statement.effect == "Deny") or not r.caller.all_listed(
                spec
            )
            if not applies:
                return "NotPrincipal lists every identity of the caller" if explain else ""
        elif r.caller.grant_kind(spec) is None:
            return f"Principal does not name {r.caller.arn or 'anonymous'}" if explain else ""
    for test in statement.conditions:
        if not test.holds(context):
            if not explain:
                return ""
            value = context.get(test.key)
            shown = "missing" if value is None else repr(value)
            return f"condition {test.describe()} is false (context value: {shown})"
    return None


def _grant(statement: Statement, caller: Caller) -> GrantKind:
    spec = statement.principal
    if spec is None or statement.not_principal:
        return "wildcard"
    return caller.grant_kind(spec) or "wildcard"


class CompiledPolicySet:
    """A ``PolicySet`` compiled once for many requests (``evaluate`` is pure and cached
    per action; it never changes a decision)."""

    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies
        self._identity = _Layer("identity", policies.identity)
        self._resource = _Layer("resource", policies.resource)
        self._boundary = _Layer("boundary", [policies.boundary] if policies.boundary else [])
        self._session = _Layer("session", [policies.session] if policies.session else [])
        self._scps = [
            _Layer(f"scp[{level}]", level_policies)
            for level, level_policies in enumerate(policies.scp_hierarchy)
        ]
        self._strict = any(p.kind in ("trust", "key") for p in policies.resource)

        self._plans: dict[str, _Plan] = {}
        self._callers: dict[tuple[str, str, str | None], Caller] = {}

    def _plan(self, action: str) -> _Plan:
        """The statements about ``action`` in every layer (cached per action)."""
        plan = self._plans.get(action)
        if plan is None:
            if len(self._plans) >= _CACHE_LIMIT:
                self._plans.clear()
            scp = [layer.candidates(action) for layer in self._scps]

            def statements(entries: tuple[Entry, ...]) -> tuple[Statement, ...]:
                return tuple(statement for _, statement in entries)

            plan = _Plan(
                scp_deny=tuple(s for deny, _ in scp for s in statements(deny)),
                scp_allow=tuple(statements(allow) for _, allow in scp),
                layers=tuple(
                    (statements(deny), statements(allow))
                    for deny, allow in (
                        layer.candidates(action)
                        for layer in (self._resource, self._identity, self._boundary, self._session)
                    )
                ),
            )
            self._plans[action] = plan
        return plan

    def _caller(self, request: Request, context: dict[str, ContextValue]) -> Caller:
        role_arn = context.get("aws:principalarn")
        key = (
            request.principal_arn,
            request.principal_account,
            role_arn if isinstance(role_arn, str) and ":role/" in role_arn else None,
        )
        caller = self._callers.get(key)
        if caller is None:
            if len(self._callers) >= _CACHE_LIMIT:
                self._callers.clear()
            caller = self._callers[key] = caller_of(*key)
        return caller

    def evaluate(self, request: Request, *, explain: bool = False) -> Decision:
        """The decision for ``request``; with ``explain``, why, layer by layer."""
        if not explain:
            return self._fast(request)
        return self._explained(request)

    def _fast(self, request: Request) -> Decision:
        """The same flow as ``_explained``, recording nothing and stopping early."""
        context = normalise_context(request.context)
        caller = self._caller(request, context)
        kind = caller.kind
        iam = kind in _IAM_CALLERS
        p = self.policies
        bounded_caller = p.boundary is not None and kind in _BOUNDED
        session_caller = p.session is not None and kind in _SESSIONS
        action = request.action.lower()
        plan = self._plan(action)
        r = _Req(action, request.resource, context, caller, bounded_caller)
        scps = iam and not p.management_account and bool(self._scps)
        (res_deny, res_allow), (id_deny, id_allow), (b_deny, b_allow), (s_deny, s_allow) = (
            plan.layers
        )
        denies = [res_deny]
        if scps:
            denies.append(plan.scp_deny)
        if iam:
            denies.append(id_deny)
        if bounded_caller:
            denies.append(b_deny)
        if session_caller:
            denies.append(s_deny)
        for group in denies:
            for statement in group:
                if _why_not(statement, r, False) is None:
                    return Decision("ExplicitDeny", False, [])
        if scps:
            for level in plan.scp_allow:
                if not any(_why_not(s, r, False) is None for s in level):
                    return Decision("ImplicitDeny", False, [])
        grants = {_grant(s, caller) for s in res_allow if _why_not(s, r, False) is None}
        identity = kind == "root" or (iam and any(_why_not(s, r, False) is None for s in id_allow))
        bounded = not bounded_caller or any(_why_not(s, r, False) is None for s in b_allow)
        if session_caller:
            in_session = any(_why_not(s, r, False) is None for s in s_allow)
        else:
            in_session = kind != "federated_user"
        verdict, _ = _combine(caller, request, grants, identity, bounded, in_session, self._strict)
        return Decision("Allow" if verdict else "ImplicitDeny", verdict, [])

    def _explained(self, request: Request) -> Decision:
        context = normalise_context(request.context)
        caller = self._caller(request, context)
        iam = caller.kind in _IAM_CALLERS
        p = self.policies
        boundary_applies = p.boundary is not None and caller.kind in _BOUNDED
        session_applies = caller.kind in _SESSIONS
        r = _Req(request.action.lower(), request.resource, context, caller, boundary_applies)
        layers: list[tuple[_Layer, str | None]] = []
        scps_apply = iam and not p.management_account
        for scp in self._scps:
            layers.append((scp, None if scps_apply else _scp_skip(caller, p.management_account)))
        layers.append((self._resource, None))
        layers.append((self._identity, None if iam else "the caller has no identity policies"))
        layers.append(
            (
                self._boundary,
                None if boundary_applies or p.boundary is None else "not for this caller",
            )
        )
        layers.append(
            (self._session, None if session_applies or p.session is None else "not for this caller")
        )
        trace = Trace(True, caller)
        trace.begin([(layer.name, len(layer.policies)) for layer, _ in layers])

        # 1. explicit deny anywhere that applies
        for layer, skipped in layers:
            if skipped is None:
                for number, statement in layer.candidates(r.action)[0]:
                    why = _why_not(statement, r, True)
                    trace.saw(layer.name, layer.policies[number].name, number, statement, why)
        if trace.denied:
            return trace.finish("ExplicitDeny", "an explicit Deny applies")

        def allows(layer: _Layer) -> set[GrantKind]:
            grants: set[GrantKind] = set()
            for number, statement in layer.candidates(r.action)[1]:
                why = _why_not(statement, r, True)
                trace.saw(layer.name, layer.policies[number].name, number, statement, why)
                if why is None:
                    grants.add(_grant(statement, caller))
            return grants

        # 2. every SCP level must allow
        for layer, skipped in layers[: len(self._scps)]:
            if skipped is not None:
                trace.skip(layer.name, skipped)
            elif not allows(layer):
                return trace.finish(
                    "ImplicitDeny", f"{layer.name}: no SCP at this level allows the action"
                )
        # 3.–6.
        grants = allows(self._resource)
        identity = caller.kind == "root" or (iam and bool(allows(self._identity)))
        if not iam:
            trace.skip("identity", "the caller has no identity policies")
        if boundary_applies:
            bounded = bool(allows(self._boundary))
        else:
            bounded = True
            if p.boundary is not None:
                trace.skip("boundary", "not for this caller")
        if session_applies and p.session is not None:
            in_session = bool(allows(self._session))
        else:
            in_session = caller.kind != "federated_user"
            if not in_session:
                trace.skip("session", "a federated user without a session policy has none")
            elif p.session is not None:
                trace.skip("session", "not for this caller")
        verdict, reason = _combine(
            caller, request, grants, identity, bounded, in_session, self._strict
        )
        return trace.finish("Allow" if verdict else "ImplicitDeny", reason)


def _scp_skip(caller: Caller, management: bool) -> str:
    if management:
        return "SCPs do not apply to the management account"
    return "SCPs apply only to IAM principals of member accounts"


def _combine(
    caller: Caller,
    request: Request,
    grants: set[GrantKind],
    identity: bool,
    bounded: bool,
    in_session: bool,
    strict: bool,
) -> tuple[bool, str]:
    """Steps 3–7: combine the layers' allows as the doc's flow does."""
    if caller.kind in ("external", "anonymous"):
        if grants:
            return True, "the resource policy allows this principal"
        return False, "only a resource policy can allow this principal, and none does"
    caller_side = identity and bounded and in_session
    if request.principal_account != request.resource_account:
        if not grants:
            return False, "cross-account: the resource policy does not allow the caller"
        if not caller_side:
            return False, "cross-account: " + _caller_side_reason(identity, bounded, in_session)
        return True, "cross-account: both the caller's policies and the resource policy allow"
    if grants & _DIRECT:
        return True, "a resource policy names the caller itself, which is final in-account"
    if "role" in grants:
        if bounded and in_session:
            return True, "a resource policy names the caller's role; boundary and session allow"
        return False, "a grant to the role ARN is still bounded: " + _caller_side_reason(
            True, bounded, in_session
        )
    if strict and "account" not in grants:
        return False, "a trust or key policy must allow the caller (or its account); none does"
    if caller_side:
        return True, "the identity-based policies allow and nothing bounds them"
    return False, _caller_side_reason(identity, bounded, in_session)


def _caller_side_reason(identity: bool, bounded: bool, in_session: bool) -> str:
    if not identity:
        return "no identity-based policy allows the action"
    if not bounded:
        return "the permissions boundary does not allow the action"
    if not in_session:
        return "the session policy does not allow the action"
    return "allowed"


def compile_policy_set(policies: PolicySet) -> CompiledPolicySet:
    """Compile ``policies`` once; ``.evaluate(request, explain=False)`` for each request."""
    return CompiledPolicySet(policies)


def evaluate(policies: PolicySet, request: Request, *, explain: bool = True) -> Decision:
    """The decision AWS documents for ``request`` under ``policies``, with why."""
    return CompiledPolicySet(policies).evaluate(request, explain=explain)
