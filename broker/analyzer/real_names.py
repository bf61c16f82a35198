"""Witnesses people can read: real action names (``s3:GetBucketAcl``, not ``S3:GET``), resource
ARNs of the action's own resource types, and principal names of a real shape, chosen from the
Service Authorization Reference (``broker.policy.service_reference``).

The solver picks any string that satisfies the constraints: any letter case, any object name,
any caller name. Each field is swapped for a readable candidate only when the engine says the
request is still a witness (``still``), so renaming never turns a finding into a non-finding.
The resource is named even when the solver's string is readable, so the same policies give the
same resource whatever model the solver found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from broker.policy import Request
from broker.policy.arn_formats import pattern_fits_format
from broker.policy.service_reference import service_reference

__all__ = ["expand_action", "readable_witness"]

_LIMIT = 2000  # engine checks per field at most (each is microseconds)
_COMMON = ("s3:GetObject", "s3:ListBucket", "sts:AssumeRole", "ec2:DescribeInstances")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_VARIABLE = re.compile(r"\$\{[^}]*\}")
_READABLE_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]+")
_SAMPLES = {"Partition": "aws", "Region": "us-east-1"}


def expand_action(pattern: str) -> list[str]:
    """The real actions an Action pattern covers (AWS's spelling); [] if none is known."""
    service_part, sep, name = pattern.partition(":")
    if not sep or "*" in service_part or "?" in service_part:
        return []
    service = service_reference().service(service_part)
    if service is None:
        return []
    if "*" in name or "?" in name:
        return sorted(a.full_name for a in service.actions_matching(name))
    action = service.action(name)
    return [action.full_name] if action is not None else []


def _action_candidates(current: str, patterns: Iterable[str]) -> Iterator[str]:
    ref = service_reference()
    same = ref.action(current)
    if same is not None:
        yield same.full_name
    for pattern in patterns:
        yield from expand_action(pattern)
    service = ref.service(current.partition(":")[0])
    if service is not None:
        yield from sorted(f"{service.prefix}:{name}" for name in service.action_names)
    yield from _COMMON


def _fill(arn_format: str, account: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "Account":
            return account
        return _SAMPLES.get(name, "example-" + name.lower().removesuffix("name")[:12] or "x")

    return _PLACEHOLDER.sub(value, arn_format)


def _concrete(pattern: str) -> str:
    return pattern.replace("*", "example").replace("?", "x")


def _resource_candidates(request: Request, patterns: Iterable[str]) -> Iterator[str]:
    for pattern in patterns:
        if pattern != "*" and not _VARIABLE.search(pattern):
            yield _concrete(pattern)
    action = service_reference().action(request.action)
    if action is not None:
        service = service_reference().service(action.service)
        for name, _ in action.resource_types:
            if service is not None and name in service.resources:
                yield _fill(service.resources[name].arn_format, request.resource_account or "")


def _acts_on(action_name: str, resources: list[str]) -> bool:
    action = service_reference().action(action_name)
    service = service_reference().service(action.service) if action is not None else None
    if action is None or service is None:
        return False
    return any(
        pattern_fits_format(resource, service.resources[name].arn_format)
        for name, _ in action.resource_types
        if name in service.resources
        for resource in resources
        if resource and resource != "*"
    )


def _first(
    request: Request, candidates: Iterable[Request], still: Callable[[Request], bool]
) -> Request:
    for count, candidate in enumerate(candidates):
        if count >= _LIMIT:
            break
        if candidate != request and still(candidate):
            return candidate
    return request


def _named_resource(
    request: Request, patterns: list[str], still: Callable[[Request], bool]
) -> Request:
    """The first named resource (the policy's own Resource made concrete, then the action's
    ARN format filled in) that is still a witness, even when the solver's string is readable.

    Why even then: the solver's object name depends on its version, its random seed and what
    the process solved before (``a_v_/`` one run, ``P`` the next), so the same policies would
    give a different witness each time. The solver's string is kept only when no named
    resource is a witness."""
    for count, resource in enumerate(dict.fromkeys(_resource_candidates(request, patterns))):
        if count >= _LIMIT:
            break
        candidate = replace(request, resource=resource)
        if still(candidate):
            return candidate
    return request


def _renamed_principal(request: Request) -> Request | None:
    """The same caller shape with readable names (and the context keys that repeat them)."""
    arn = request.principal_arn
    head, sep, tail = arn.rpartition(":")
    if not sep or not arn.startswith("arn:"):
        return None
    kind, _, rest = tail.partition("/")
    if kind == "assumed-role":
        names = rest.split("/")
        if all(_READABLE_NAME.fullmatch(n) for n in names):
            return None
        new_tail = "assumed-role/witness-role/witness-session"
        old_role = f"{head.replace(':sts:', ':iam:')}:role/{names[0]}"
        new_role = f"{head.replace(':sts:', ':iam:')}:role/witness-role"
    elif kind in ("user", "role", "federated-user"):
        if _READABLE_NAME.fullmatch(rest.replace("/", "")):
            return None
        new_tail = f"{kind}/witness-{kind.split('-')[-1]}"
        old_role = new_role = ""
    else:
        return None
    new_arn = f"{head}:{new_tail}"
    context = {
        key: new_arn if value == arn else new_role if old_role and value == old_role else value
        for key, value in request.context.items()
    }
    return replace(request, principal_arn=new_arn, context=context)


def readable_witness(
    request: Request,
    still: Callable[[Request], bool],
    *,
    actions: Iterable[str] = (),
    resources: Iterable[str] = (),
) -> Request:
    """``request`` with a real action, a real-shaped resource and readable principal names,
    each kept only where ``still`` (the engine) says it is still a witness.

    ``actions``/``resources``: the policies' own Action and Resource values, tried first."""
    action_patterns, resource_patterns = list(actions), list(resources)
    if service_reference().action(request.action) is None or not any(
        request.action == a for a in expand_action(request.action)
    ):
        candidates = list(dict.fromkeys(_action_candidates(request.action, action_patterns)))
        places = [request.resource, *resource_patterns]
        # Actions that act on the resource at hand first: a bucket action on a bucket ARN.
        candidates.sort(key=lambda a: not _acts_on(a, places))
        request = _first(request, (replace(request, action=a) for a in candidates), still)
    request = _named_resource(request, resource_patterns, still)
    renamed = _renamed_principal(request)
    if renamed is not None and still(renamed):
        request = renamed
    return request
