"""Reading simulation cases (the input of ``broker policy simulate``) into policies and
requests, with the JSON path of the first problem in a ``UsageError``.

A case::

    {"policies": {"identity": [doc, ...], "resource": [doc, ...], "trust": [doc, ...],
                  "key": [doc, ...], "boundary": doc, "session": doc,
                  "scp": [doc, ...] | "scp_hierarchy": [[doc, ...], ...],
                  "rcp": [doc, ...] | "rcp_hierarchy": [[doc, ...], ...],
                  "management_account": false, "resource_management_account": false},
     "request": {...} | "requests": [{...}, ...]}

A request may also carry ``federated_by`` (see ``Request``). An anonymous caller
(``principal_arn`` ``""`` or ``"anonymous"``) may have ``principal_account: null``.

In a list of cases each case is answered on its own: a case that cannot be read is an
``Unreadable`` (its one-line error) in its place, and so is a request of a ``requests`` list, so
one bad policy or request among thousands does not hide the other answers. A file that is not a
case or a list of cases at all, and a single case that cannot be read, are still a
``UsageError``.
``trust`` and ``key`` documents are resource policies of those kinds (see
``broker.policy.request``). Absent keys mean no policies of that kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from broker.errors import UsageError
from broker.policy.applicability import NormalContext, normalise_value
from broker.policy.findings import PolicyKind, PolicyValidationError
from broker.policy.grammar import Policy
from broker.policy.grammar import parse_policy as _parse
from broker.policy.limits import text_problem
from broker.policy.principals import IAM_CALLER_KINDS, caller_of
from broker.policy.request import PolicySet, Request

__all__ = ["Case", "Unreadable", "read_cases"]

_POLICY_KEYS = frozenset(
    {
        "identity",
        "resource",
        "trust",
        "key",
        "boundary",
        "session",
        "scp",
        "scp_hierarchy",
        "management_account",
        "rcp",
        "rcp_hierarchy",
        "resource_management_account",
    }
)
_REQUEST_KEYS = (
    "action",
    "resource",
    "principal_arn",
    "principal_account",
    "resource_account",
)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A case or request of a list that was refused: the one-line reason."""

    error: str

    def to_json(self) -> dict[str, str]:
        return {"error": self.error}


@dataclass(frozen=True, slots=True)
class Case:
    """One case: its policies and its requests (``single``: it had ``request``, not a list);
    a request of a ``requests`` list that was refused is an ``Unreadable`` in its place."""

    policies: PolicySet
    requests: tuple[Request | Unreadable, ...]
    single: bool


def _policy(doc: object, kind: PolicyKind, path: str) -> Policy:
    """Parse once: ``parse_policy`` checks the grammar and compiles in one pass, raising with
    every error, of which the first (with its path) becomes the usage error."""
    if not isinstance(doc, Mapping | str):
        raise UsageError(f"{path}: a policy must be a JSON object")
    try:
        return _parse(doc, kind=kind, name=path)
    except PolicyValidationError as exc:
        first = exc.findings[0]
        where = f"{path}.{first.path}" if first.path else path
        more = f" (and {len(exc.findings) - 1} more)" if len(exc.findings) > 1 else ""
        raise UsageError(f"{where}: {first.message}{more}") from None


def _policies(doc: object, kind: PolicyKind, path: str) -> list[Policy]:
    if not isinstance(doc, list):
        raise UsageError(f"{path}: must be a list of policy documents")
    return [_policy(item, kind, f"{path}[{i}]") for i, item in enumerate(doc)]


def _policy_set(data: object, path: str) -> PolicySet:
    if data is None:
        return PolicySet()
    if not isinstance(data, Mapping):
        raise UsageError(f"{path}: must be an object of policies by type")
    for key in data:
        if key not in _POLICY_KEYS:
            raise UsageError(
                f"{path}.{key}: unknown policy type; use {', '.join(sorted(_POLICY_KEYS))}"
            )
    resource = _policies(data.get("resource", []), "resource", f"{path}.resource")
    resource += _policies(data.get("trust", []), "trust", f"{path}.trust")
    resource += _policies(data.get("key", []), "key", f"{path}.key")
    scps = _hierarchy(data, "scp", path)
    rcps = _hierarchy(data, "rcp", path)
    flags: dict[str, bool] = {}
    for flag in ("management_account", "resource_management_account"):
        value = data.get(flag, False)
        if not isinstance(value, bool):
            raise UsageError(f"{path}.{flag}: must be true or false")
        flags[flag] = value
    boundary, session = data.get("boundary"), data.get("session")
    return PolicySet(
        identity=_policies(data.get("identity", []), "identity", f"{path}.identity"),
        resource=resource,
        boundary=None if boundary is None else _policy(boundary, "boundary", f"{path}.boundary"),
        scp_hierarchy=scps,
        session=None if session is None else _policy(session, "session", f"{path}.session"),
        management_account=flags["management_account"],
        rcp_hierarchy=rcps,
        resource_management_account=flags["resource_management_account"],
    )


def _hierarchy(data: Mapping[str, Any], kind: PolicyKind, path: str) -> list[list[Policy]]:
    """``kind`` (one level) or ``kind_hierarchy`` (levels: root, OUs..., account)."""
    levels_key = f"{kind}_hierarchy"
    if kind in data and levels_key in data:
        raise UsageError(f"{path}: give {kind} (one level) or {levels_key} (levels), not both")
    if kind in data:
        return [_policies(data[kind], kind, f"{path}.{kind}")]
    levels = data.get(levels_key, [])
    if not isinstance(levels, list):
        raise UsageError(f"{path}.{levels_key}: must be a list of levels (lists of policies)")
    return [_policies(level, kind, f"{path}.{levels_key}[{i}]") for i, level in enumerate(levels)]


_REQUEST_FIELDS = frozenset((*_REQUEST_KEYS, "context", "federated_by"))
_SCALARS = (str, bool, int)


def _context_ok(value: object) -> bool:
    kind = type(value)
    if kind is str or kind is bool or kind is int:
        return True
    return kind is list and all(type(v) in _SCALARS for v in value)  # type: ignore[attr-defined]


def _account_mismatch(principal_arn: str, principal_account: str) -> str | None:
    """The ARN's own account when it differs from ``principal_account`` (cached: a batch
    repeats a few callers over thousands of requests)."""
    key = (principal_arn, principal_account)
    if key in _ACCOUNT_CHECKS:
        return _ACCOUNT_CHECKS[key]
    caller = caller_of(principal_arn, principal_account, None)
    found = (
        caller.account
        if caller.kind in IAM_CALLER_KINDS and caller.account != principal_account
        else None
    )
    if len(_ACCOUNT_CHECKS) >= 4096:
        _ACCOUNT_CHECKS.clear()
    _ACCOUNT_CHECKS[key] = found
    return found


_ACCOUNT_CHECKS: dict[tuple[str, str], str | None] = {}


class _Refused(Exception):
    """A request that cannot be read: where in it (``".context.key"``, or ``""`` for the
    request itself) and what is wrong. The caller adds the request's own path, so a batch
    builds a path string only for the requests it refuses."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(where, message)
        self.where = where
        self.message = message

    def at(self, path: str) -> str:
        return f"{path}{self.where}: {self.message}"


# ``Request`` is a frozen dataclass: its generated ``__init__`` sets each field through
# ``object.__setattr__``. The reader makes tens of thousands of them, with fields it has just
# checked, so it sets the slots directly (the same values, the same frozen object).
_new_request = object.__new__


def _slot_setter(name: str) -> Callable[[Request, object], None]:
    setter: Callable[[Request, object], None] = vars(Request)[name].__set__
    return setter


_set_action = _slot_setter("action")
_set_resource = _slot_setter("resource")
_set_principal_arn = _slot_setter("principal_arn")
_set_principal_account = _slot_setter("principal_account")
_set_resource_account = _slot_setter("resource_account")
_set_context = _slot_setter("context")
_set_federated_by = _slot_setter("federated_by")


def _make_request(
    action: str,
    resource: str,
    principal_arn: str,
    principal_account: str,
    resource_account: str,
    context: NormalContext,
    federated_by: str | None,
) -> Request:
    request: Request = _new_request(Request)
    _set_action(request, action)
    _set_resource(request, resource)
    _set_principal_arn(request, principal_arn)
    _set_principal_account(request, principal_account)
    _set_resource_account(request, resource_account)
    _set_context(request, context)
    _set_federated_by(request, federated_by)
    return request


def _request(data: object) -> Request:
    """One request, checked field by field; raises ``_Refused``. Written for throughput: a
    batch holds tens of thousands of requests, and checking them must not cost more than
    deciding them (hence ``type(...) is`` before the slower ``isinstance`` on abstract types,
    and one test for the common case of five strings)."""
    if type(data) is not dict and not isinstance(data, Mapping):
        raise _Refused("", "a request must be an object")
    if not _REQUEST_FIELDS.issuperset(data):
        unknown = next(key for key in data if key not in _REQUEST_FIELDS)
        raise _Refused(f".{unknown}", "unknown request field")
    get: Callable[..., Any] = data.get  # the values are checked right below
    action = get("action")
    resource = get("resource")
    principal_arn = get("principal_arn")
    principal_account = get("principal_account")
    resource_account = get("resource_account")
    if principal_account is None and principal_arn in ("", "anonymous"):
        principal_account = ""  # an anonymous caller has no account
    if not (
        type(action) is str
        and type(resource) is str
        and type(principal_arn) is str
        and type(principal_account) is str
        and type(resource_account) is str
    ):
        fields = (action, resource, principal_arn, principal_account, resource_account)
        for key, value in zip(_REQUEST_KEYS, fields, strict=True):
            if type(value) is not str:
                raise _Refused(f".{key}", "required, a string")
    context = get("context", _NO_CONTEXT)
    if type(context) is not dict and not isinstance(context, Mapping):
        raise _Refused(".context", "must be an object")
    normal = NormalContext()  # what evaluation would make of it, made here in the same pass
    lowered = _LOWERED
    for key, value in context.items():
        try:
            low = lowered[key]
        except KeyError:
            if len(lowered) >= _LOWERED_LIMIT:
                lowered.clear()
            low = lowered[key] = key.lower()
        kind = type(value)
        if kind is str:
            normal[low] = value
        elif kind is bool:
            normal[low] = "true" if value else "false"
        elif _context_ok(value):
            normal[low] = normalise_value(value)
        else:
            raise _Refused(f".context.{key}", "must be a string, boolean, number or a list of them")
    federated_by = get("federated_by")
    if federated_by is not None and type(federated_by) is not str:
        raise _Refused(".federated_by", "must be the IAM user ARN, a string")
    own_account = _account_mismatch(principal_arn, principal_account)
    if own_account is not None:
        raise _Refused(
            ".principal_account",
            f"{principal_account} is not the account of principal_arn ({own_account}); "
            "make them agree",
        )
    return _make_request(
        action,
        resource,
        principal_arn,
        principal_account,
        resource_account,
        normal,
        federated_by,
    )


_NO_CONTEXT: Mapping[str, Any] = {}
# Context keys lower-cased: a batch repeats the same few keys in every request.
_LOWERED: dict[str, str] = {}
_LOWERED_LIMIT = 4096


def _check_text(data: object, path: str, screened: bool) -> None:
    """Refuse a NUL or lone surrogate anywhere in ``data`` (skipped when the input's text was
    screened clean by ``limits.may_hold_bad_characters``)."""
    if not screened:
        problem = text_problem(data, path)
        if problem is not None:
            raise UsageError(f"{problem}; remove it")


def _one_request(data: object, path: str, screened: bool) -> Request:
    """A single case's ``request``: what is wrong with it is a ``UsageError``."""
    _check_text(data, path, screened)
    try:
        return _request(data)
    except _Refused as refused:
        raise UsageError(refused.at(path)) from None


def _requests(items: list[object], path: str, screened: bool) -> tuple[Request | Unreadable, ...]:
    """Every request of a ``requests`` list at ``path``, each read on its own: a refused one
    is an ``Unreadable`` (its one-line error) in its place."""
    out: list[Request | Unreadable] = []
    append = out.append
    for index, item in enumerate(items):
        try:
            if not screened:
                _check_text(item, f"{path}[{index}]", screened)
            append(_request(item))
        except _Refused as refused:
            append(Unreadable(refused.at(f"{path}[{index}]")))
        except UsageError as exc:
            append(Unreadable(str(exc)))
    return tuple(out)


def _case(data: object, path: str, screened: bool) -> Case:
    if not isinstance(data, Mapping):
        raise UsageError(f"{path or '$'}: a case must be an object with policies and request(s)")
    prefix = f"{path}." if path else ""
    for key in data:
        if key not in ("policies", "request", "requests"):
            raise UsageError(f"{prefix}{key}: unknown field; use policies, request or requests")
    has_one, has_many = "request" in data, "requests" in data
    if has_one == has_many:
        raise UsageError(f"{path or '$'}: give exactly one of request or requests")
    policies = _policy_set(data.get("policies"), f"{prefix}policies")
    if has_one:
        return Case(policies, (_one_request(data["request"], f"{prefix}request", screened),), True)
    items = data["requests"]
    if not isinstance(items, list):
        raise UsageError(f"{prefix}requests: must be a list of requests")
    return Case(policies, _requests(items, f"{prefix}requests", screened), False)


def _each_case(data: object, path: str, screened: bool) -> Case | Unreadable:
    try:
        return _case(data, path, screened)
    except UsageError as exc:
        return Unreadable(str(exc))


def read_cases(data: Any, *, screened: bool = False) -> tuple[list[Case | Unreadable], bool]:
    """The cases in ``data`` (one case or a list), and whether it was a list. In a list, a case
    that cannot be read is an ``Unreadable``; a single case that cannot be read raises.
    ``screened``: the JSON text holds no escape that could make a NUL or a lone surrogate
    (``limits.may_hold_bad_characters``), so requests need not be checked value by value."""
    if isinstance(data, list):
        return [_each_case(item, f"[{i}]", screened) for i, item in enumerate(data)], True
    return [_case(data, "", screened)], False
