"""AWS's policy evaluation logic (IAM User Guide, "Policy evaluation logic", "How AWS
enforcement code logic evaluates requests to allow or deny access", "Cross-account policy
evaluation logic", "Permissions boundaries for IAM entities", "Session policies", "Service
control policies").

The flow, as one pure function of (policies, request):

1. An explicit Deny that applies, in any policy that applies, wins.
2a. RCPs of the resource's account (unless it is the management account, or the caller a
   service-linked role): every level must allow, for every caller, external ones included.
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

from broker.policy.applicability import (
    CACHE_LIMIT,
    Check,
    Entry,
    Layer,
    NormalContext,
    Req,
    any_applies,
    checker,
    grant,
    normalise_context,
    why_not,
)
from broker.policy.explain import Trace
from broker.policy.principals import IAM_CALLER_KINDS, Caller, GrantKind, caller_of
from broker.policy.request import Decision, DecisionName, PolicySet, Request
from broker.policy.resource_index import ResourceIndex
from broker.policy.statements import Statement
from broker.policy.variables import ContextValue

__all__ = ["CompiledPolicySet", "compile_policy_set", "evaluate"]

Pair = tuple[Check, Statement]
_DIRECT: frozenset[GrantKind] = frozenset({"user", "session", "federated_user", "wildcard"})
_IAM_CALLERS = IAM_CALLER_KINDS
_BOUNDED = frozenset({"user", "role", "role_session", "federated_user"})
_SESSIONS = frozenset({"role", "role_session", "federated_user"})


@dataclass(frozen=True, slots=True)
class _Plan:
    """Per action: SCP and RCP denies (all levels), their allows per level, and (deny, allow)
    statements of the resource, identity, boundary and session layers."""

    scp_deny: tuple[Pair, ...]
    scp_allow: tuple[tuple[Pair, ...], ...]
    rcp_deny: tuple[Pair, ...]
    rcp_allow: tuple[tuple[Pair, ...], ...]
    layers: tuple[tuple[tuple[Pair, ...], tuple[Pair, ...]], ...]
    resource_allow: tuple[Pair, ...]


@dataclass(frozen=True, slots=True)
class _Route:
    """One caller's path through a ``_Plan``: every Deny that applies to it (one flat tuple: any
    of them decides), the SCP/RCP levels that must each allow, resource grants with the kind
    of grant they make for this caller, and the identity (None: the root user, who needs
    none), boundary and session allows (None where that layer does not bind the caller).
    Each group is indexed by resource (``ResourceIndex``): a request tests only the statements
    whose Resource may match its resource."""

    denies: ResourceIndex[Pair]
    levels: tuple[ResourceIndex[Pair], ...]
    resource_allow: ResourceIndex[tuple[Pair, GrantKind]]
    identity: ResourceIndex[Pair] | None
    boundary: ResourceIndex[Pair] | None
    session: ResourceIndex[Pair] | None
    no_session: bool  # a federated user without a session policy has no permissions
    bounded: bool


# A layer's statements about one request narrowed by its resource: (one of them applies
# whatever the context, the checks of those that still may).
Narrowed = tuple[bool, tuple[Check, ...]]


@dataclass(frozen=True, slots=True)
class _Narrow:
    """A ``_Route`` for one resource and caller, folded for the fast path: statements whose
    Resource cannot match it are gone, and a statement that matches it with nothing left to
    test (no condition, no variable, no principal) settles its group. Only the
    context-dependent checks run per request.

    ``denied``: a Deny applies outright; ``deny_checks``: the Denies that may apply.
    ``blocked``: an SCP or RCP level has no statement that can allow; ``levels``: the checks of
    the levels not settled yet (each needs one that applies). ``grants``: the kinds of grant the
    resource policy makes outright; ``grant_checks``: those that depend on the context.
    ``identity``, ``boundary``, ``session``: (settled true, the checks that may still make it
    true), with a layer that does not bind the caller settled as ``_combine`` expects."""

    action: str  # lower-cased
    caller: Caller
    denied: bool
    deny_checks: tuple[Check, ...]
    blocked: bool
    levels: tuple[tuple[Check, ...], ...]
    grants: frozenset[GrantKind]
    grant_checks: tuple[tuple[Check, GrantKind], ...]
    identity: Narrowed
    boundary: Narrowed
    session: Narrowed
    bounded: bool


_SETTLED: Narrowed = (True, ())


CallerKey = tuple[str, str, str | None, str | None]


def _caller_key(request: Request, context: dict[str, ContextValue]) -> CallerKey:
    """What ``caller_of`` reads: the ARN, account, the role ARN given as ``aws:PrincipalArn``
    (with its path) and the federating user."""
    role_arn = context.get("aws:principalarn")
    return (
        request.principal_arn,
        request.principal_account,
        role_arn if isinstance(role_arn, str) and ":role/" in role_arn else None,
        request.federated_by,
    )


def _narrow(pairs: Sequence[Pair], resource: str) -> Narrowed:
    rest: list[Check] = []
    for check, statement in pairs:
        resources = statement.resources
        if resources is not None and not resources.templates:
            if resources.match(resource) == statement.not_resource:
                continue  # its Resource/NotResource rules this resource out
        elif resources is not None:
            rest.append(check)  # a policy variable in Resource: decided per request
            continue
        if statement.conditions or statement.required_keys or statement.principal is not None:
            rest.append(check)
        else:
            return True, ()
    return False, tuple(dict.fromkeys(rest))  # a statement found under two heads: once


def _index(pairs: tuple[Pair, ...]) -> ResourceIndex[Pair]:
    return ResourceIndex(pairs, _statement_of)


def _statement_of(pair: Pair) -> Statement:
    return pair[1]


def _statement_of_grant(item: tuple[Pair, GrantKind]) -> Statement:
    return item[0][1]


def _narrowed_by(index: ResourceIndex[Pair], resource: str) -> Narrowed:
    return _narrow(index.find(resource), resource)


def _any_pair(pairs: Sequence[Pair], r: Req) -> bool:
    for check, _ in pairs:
        if check(r):
            return True
    return False


class CompiledPolicySet:
    """A ``PolicySet`` compiled once for many requests.

    ``evaluate`` is pure; what it caches (per action, per caller, per statement) never changes a
    decision. Safe to share between threads: the caches are plain dicts, and a race at worst
    computes an entry twice.
    """

    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies
        self._identity = Layer("identity", policies.identity)
        self._resource = Layer("resource", policies.resource)
        self._boundary = Layer("boundary", [policies.boundary] if policies.boundary else [])
        self._session = Layer("session", [policies.session] if policies.session else [])
        self._scps = [
            Layer(f"scp[{level}]", level_policies)
            for level, level_policies in enumerate(policies.scp_hierarchy)
        ]
        self._rcps = [
            Layer(f"rcp[{level}]", level_policies)
            for level, level_policies in enumerate(policies.rcp_hierarchy)
        ]
        self._strict = any(p.kind in ("trust", "key") for p in policies.resource)

        self._plans: dict[str, _Plan] = {}
        self._callers: dict[CallerKey, Caller] = {}
        self._checks: dict[int, Check] = {}  # by id() of statements this set holds
        self._routes: dict[tuple[str, Caller], _Route] = {}
        self._narrows: dict[tuple[object, ...], _Narrow] = {}
        self._seen: set[tuple[object, ...]] = set()  # shapes decided once, not yet narrowed

    def _plan(self, action: str) -> _Plan:
        """The statements about ``action`` in every layer (cached per action)."""
        plan = self._plans.get(action)
        if plan is None:
            if len(self._plans) >= CACHE_LIMIT:
                self._plans.clear()
            scp = [layer.candidates(action) for layer in self._scps]
            rcp = [layer.candidates(action) for layer in self._rcps]

            def statements(entries: tuple[Entry, ...]) -> tuple[Pair, ...]:
                return tuple((self._check(statement), statement) for _, statement in entries)

            plan = _Plan(
                scp_deny=tuple(s for deny, _ in scp for s in statements(deny)),
                scp_allow=tuple(statements(allow) for _, allow in scp),
                rcp_deny=tuple(s for deny, _ in rcp for s in statements(deny)),
                rcp_allow=tuple(statements(allow) for _, allow in rcp),
                layers=tuple(
                    (statements(deny), statements(allow))
                    for deny, allow in (
                        layer.candidates(action)
                        for layer in (self._resource, self._identity, self._boundary, self._session)
                    )
                ),
                resource_allow=tuple(
                    (self._check(statement), statement)
                    for _, statement in self._resource.candidates(action)[1]
                ),
            )
            self._plans[action] = plan
        return plan

    def _check(self, statement: Statement) -> Check:
        check = self._checks.get(id(statement))
        if check is None:
            check = self._checks[id(statement)] = checker(statement)
        return check

    def _caller(
        self, request: Request, context: dict[str, ContextValue], key: CallerKey | None = None
    ) -> Caller:
        key = key or _caller_key(request, context)
        caller = self._callers.get(key)
        if caller is None:
            if len(self._callers) >= CACHE_LIMIT:
                self._callers.clear()
            caller = self._callers[key] = caller_of(*key)
        return caller

    def evaluate(self, request: Request, *, explain: bool = False, full: bool = False) -> Decision:
        """The decision for ``request``; with ``explain``, why, layer by layer (with ``full``,
        also the statements whose Action does not cover the action)."""
        if not explain:
            return self._fast(request)
        return self._explained(request, full)

    def _fast(self, request: Request) -> Decision:
        name = self.decide(request)
        return Decision(name, name == "Allow", [])

    def _route(self, action: str, caller: Caller) -> _Route:
        """The checks one caller's requests for ``action`` go through (cached): the flow of
        ``_explained`` with every layer that does not apply to this caller left out."""
        key = (action, caller)
        route = self._routes.get(key)
        if route is None:
            if len(self._routes) >= CACHE_LIMIT:
                self._routes.clear()
            plan = self._plans.get(action) or self._plan(action)
            kind = caller.kind
            iam = kind in _IAM_CALLERS
            p = self.policies
            bounded = p.boundary is not None and kind in _BOUNDED
            in_session = p.session is not None and kind in _SESSIONS
            scps = bool(self._scps) and _scp_skip(caller, p.management_account) is None
            rcps = bool(self._rcps) and _rcp_skip(caller, p.resource_management_account) is None
            (res_deny, _), (id_deny, id_allow), (b_deny, b_allow), (s_deny, s_allow) = plan.layers
            denies = res_deny + (plan.rcp_deny if rcps else ()) + (plan.scp_deny if scps else ())
            denies += (id_deny if iam else ()) + (b_deny if bounded else ())
            denies += s_deny if in_session else ()
            levels = (plan.rcp_allow if rcps else ()) + (plan.scp_allow if scps else ())
            route = self._routes[key] = _Route(
                denies=_index(denies),
                levels=tuple(_index(level) for level in levels),
                resource_allow=ResourceIndex(
                    [(pair, grant(pair[1], caller)) for pair in plan.resource_allow],
                    _statement_of_grant,
                ),
                identity=None if kind == "root" else _index(id_allow if iam else ()),
                boundary=_index(b_allow) if bounded else None,
                session=_index(s_allow) if in_session else None,
                no_session=kind == "federated_user",
                bounded=bounded,
            )
        return route

    def _narrowed(
        self, action: str, resource: str, caller: Caller, key: tuple[object, ...]
    ) -> _Narrow:
        route = self._routes.get((action, caller)) or self._route(action, caller)
        if len(self._narrows) >= CACHE_LIMIT:
            self._narrows.clear()
        levels = [_narrow(level.find(resource), resource) for level in route.levels]
        grants: set[GrantKind] = set()
        grant_checks: dict[tuple[Check, GrantKind], None] = {}  # each once, in order
        for (check, statement), kind in route.resource_allow.find(resource):
            always, checks = _narrow(((check, statement),), resource)
            if always:
                grants.add(kind)
            elif checks:
                grant_checks[check, kind] = None
        denied, deny_checks = _narrow(route.denies.find(resource), resource)
        no_session = (not route.no_session, ())
        narrowed = self._narrows[key] = _Narrow(
            action=action,
            caller=caller,
            denied=denied,
            deny_checks=deny_checks,
            blocked=any(not always and not checks for always, checks in levels),
            levels=tuple(checks for always, checks in levels if not always),
            grants=frozenset(grants),
            grant_checks=tuple(grant_checks),
            identity=_SETTLED if route.identity is None else _narrowed_by(route.identity, resource),
            boundary=_SETTLED if route.boundary is None else _narrowed_by(route.boundary, resource),
            session=no_session if route.session is None else _narrowed_by(route.session, resource),
            bounded=route.bounded,
        )
        return narrowed

    def decide(self, request: Request) -> DecisionName:
        """The decision alone: the fast path, recording nothing and stopping early."""
        context = request.context
        if type(context) is not NormalContext:
            context = normalise_context(context)
        resource = request.resource
        # Everything the narrowed route depends on, as the request gives it (the action before
        # lower-casing, ``aws:PrincipalArn`` whatever its value): a flat key, cheap to hash.
        key = (
            request.action,
            resource,
            request.principal_arn,
            request.principal_account,
            context.get("aws:principalarn"),
            request.federated_by,
        )
        narrowed = self._narrows.get(key)
        if narrowed is None:
            who = _caller_key(request, context)
            caller = self._callers.get(who) or self._caller(request, context, who)
            action = request.action.lower()
            # Narrowing looks at every statement once, so it pays only for a shape seen before;
            # the first time, the route's checks run directly and stop at the first answer.
            if key not in self._seen:
                if len(self._seen) >= CACHE_LIMIT:
                    self._seen.clear()
                self._seen.add(key)
                route = self._routes.get((action, caller)) or self._route(action, caller)
                return self._decide_on_route(route, request, action, context, caller)
            narrowed = self._narrowed(action, resource, caller, key)
        if narrowed.denied:
            return "ExplicitDeny"
        r = Req(narrowed.action, resource, context, narrowed.caller, narrowed.bounded)
        for check in narrowed.deny_checks:
            if check(r):
                return "ExplicitDeny"
        if narrowed.blocked:
            return "ImplicitDeny"
        for checks in narrowed.levels:
            for check in checks:
                if check(r):
                    break
            else:
                return "ImplicitDeny"
        grants = narrowed.grants
        if narrowed.grant_checks:
            grants = grants | {kind for check, kind in narrowed.grant_checks if check(r)}
        identity, boundary, session = narrowed.identity, narrowed.boundary, narrowed.session
        verdict, _ = _combine(
            narrowed.caller,
            request,
            grants,
            identity[0] or any_applies(identity[1], r),
            boundary[0] or any_applies(boundary[1], r),
            session[0] or any_applies(session[1], r),
            self._strict,
        )
        return "Allow" if verdict else "ImplicitDeny"

    def _decide_on_route(
        self,
        route: _Route,
        request: Request,
        action: str,
        context: dict[str, ContextValue],
        caller: Caller,
    ) -> DecisionName:
        resource = request.resource
        r = Req(action, resource, context, caller, route.bounded)
        if _any_pair(route.denies.find(resource), r):
            return "ExplicitDeny"
        for level in route.levels:
            if not _any_pair(level.find(resource), r):
                return "ImplicitDeny"
        grants = {kind for (check, _), kind in route.resource_allow.find(resource) if check(r)}
        identity = route.identity is None or _any_pair(route.identity.find(resource), r)
        bounded = route.boundary is None or _any_pair(route.boundary.find(resource), r)
        if route.session is not None:
            in_session = _any_pair(route.session.find(resource), r)
        else:
            in_session = not route.no_session
        verdict, _ = _combine(caller, request, grants, identity, bounded, in_session, self._strict)
        return "Allow" if verdict else "ImplicitDeny"

    def _explained(self, request: Request, full: bool = False) -> Decision:
        """Every applicable statement about the action, each with why it applies or not; then
        the same decision as ``_fast``."""
        context = normalise_context(request.context)
        caller = self._caller(request, context)
        kind = caller.kind
        iam = kind in _IAM_CALLERS
        p = self.policies
        boundary_applies = p.boundary is not None and kind in _BOUNDED
        session_applies = p.session is not None and kind in _SESSIONS
        r = Req(request.action.lower(), request.resource, context, caller, boundary_applies)
        scp_skip = _scp_skip(caller, p.management_account)
        rcp_skip = _rcp_skip(caller, p.resource_management_account)
        not_for = "not for this caller"
        layers: list[tuple[Layer, str | None]] = [(rcp, rcp_skip) for rcp in self._rcps]
        layers += [(scp, scp_skip) for scp in self._scps]
        layers += [
            (self._resource, None),
            (self._identity, None if iam else "the caller has no identity policies"),
            (self._boundary, None if boundary_applies or p.boundary is None else not_for),
            (self._session, None if session_applies or p.session is None else not_for),
        ]
        trace = Trace(True, caller)
        trace.begin([(layer.name, len(layer.policies)) for layer, _ in layers])
        grants: dict[str, set[GrantKind]] = {layer.name: set() for layer, _ in layers}
        for layer, skipped in layers:
            if skipped is not None:
                trace.skip(layer.name, skipped)
                continue
            deny, allow = layer.candidates(r.action)
            about = deny + allow
            others = _other_statements(layer, about) if full else []
            missed = {id(statement) for _, statement in others}
            for number, statement in sorted(
                about + tuple(others), key=lambda e: (e[0], e[1].index)
            ):
                why: str | None = (
                    _ACTION_MISS[statement.not_action]
                    if id(statement) in missed
                    else why_not(statement, r, True)
                )
                trace.saw(layer.name, layer.policies[number].name, number, statement, why)
                if why is None and statement.effect == "Allow":
                    grants[layer.name].add(grant(statement, caller))
        if trace.denied:
            return trace.finish("ExplicitDeny", "an explicit Deny applies")
        for guards, skipped, what in ((self._rcps, rcp_skip, "RCP"), (self._scps, scp_skip, "SCP")):
            if skipped is None:
                for level in guards:
                    if not grants[level.name]:
                        return trace.finish(
                            "ImplicitDeny", f"{level.name}: no {what} at this level allows it"
                        )
        identity = kind == "root" or (iam and bool(grants["identity"]))
        bounded = not boundary_applies or bool(grants["boundary"])
        if session_applies:
            in_session = bool(grants["session"])
        else:
            in_session = kind != "federated_user"
            if not in_session:
                trace.skip("session", "a federated user without a session policy has none")
        verdict, reason = _combine(
            caller, request, grants["resource"], identity, bounded, in_session, self._strict
        )
        return trace.finish("Allow" if verdict else "ImplicitDeny", reason)


_ACTION_MISS = {False: "Action does not match", True: "NotAction lists the action"}


def _other_statements(layer: Layer, about: tuple[Entry, ...]) -> list[Entry]:
    """The layer's statements whose Action (or NotAction) leaves the action out."""
    seen = {id(statement) for _, statement in about}
    return [
        (number, statement)
        for number, policy in enumerate(layer.policies)
        for statement in policy.statements
        if id(statement) not in seen
    ]


def _service_linked(caller: Caller) -> bool:
    return caller.parent_arn is not None and ":role/aws-service-role/" in caller.parent_arn


def _rcp_skip(caller: Caller, resource_in_management: bool) -> str | None:
    """Why RCPs do not apply to this request, or None when they do ([RCP]: not to resources of
    the management account, not to calls by service-linked roles; to every other caller)."""
    if resource_in_management:
        return "RCPs do not apply to resources in the management account"
    if _service_linked(caller):
        return "RCPs do not apply to service-linked roles"
    return None


def _scp_skip(caller: Caller, management: bool) -> str | None:
    """Why SCPs do not apply to this caller, or None when they do ([SCP]: not to the
    management account, not to service-linked roles, only to IAM principals)."""
    if caller.kind not in _IAM_CALLERS:
        return "SCPs apply only to IAM principals of member accounts"
    if management:
        return "SCPs do not apply to the management account"
    if _service_linked(caller):
        return "SCPs do not apply to service-linked roles"
    return None


def _combine(
    caller: Caller,
    request: Request,
    grants: set[GrantKind] | frozenset[GrantKind],
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
    # An IAM caller's account is the one in its ARN (``caller_of``), whatever the request's
    # ``principal_account`` says: a mismatch must never turn a cross-account call into a
    # same-account one, where a resource policy alone can allow.
    if caller.account != request.resource_account:
        if not grants:
            return False, "cross-account: the resource policy does not allow the caller"
        if not caller_side:
            return False, "cross-account: " + _caller_side_reason(identity, bounded, in_session)
        return True, "cross-account: both the caller's policies and the resource policy allow"
    if grants & _DIRECT:
        return True, "a resource policy names the caller itself, which is final in-account"
    if "role" in grants or "federating_user" in grants:
        if bounded and in_session:
            return True, (
                "a resource policy names the caller's role (or federating user); the boundary "
                "and session policy allow"
            )
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


def evaluate(
    policies: PolicySet, request: Request, *, explain: bool = True, full: bool = False
) -> Decision:
    """The decision AWS documents for ``request`` under ``policies``, with why."""
    return CompiledPolicySet(policies).evaluate(request, explain=explain, full=full)
