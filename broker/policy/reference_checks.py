"""Policy checks that need the Service Authorization Reference (``service_reference``), shaped
like IAM Access Analyzer's policy validation: unknown services and actions (with the closest
real names), condition keys that do not exist or that the statement's actions do not support,
Resource values that match no resource type of the actions, actions that support only
``"Resource": "*"``, and misspelled global condition keys.

These run in ``broker policy validate`` only. Parsing and evaluation never consult the
reference: it is a snapshot (see its ``source``), and AWS adds actions every week, so a policy
naming an action newer than the snapshot must still evaluate as written.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from broker.policy.arn_formats import pattern_fits_format
from broker.policy.findings import Finding, PolicyKind
from broker.policy.global_condition_keys import closest_global_keys, is_global_key
from broker.policy.service_reference import (
    ActionInfo,
    ServiceReference,
    key_template_pattern,
    service_reference,
)

__all__ = ["reference_findings"]

_WILD = ("*", "?")
# Global keys the reference lists per action: whether an action supports them is data.
_PER_ACTION_GLOBAL = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")


def _did_you_mean(names: Sequence[str]) -> str:
    if not names:
        return ""
    return "did you mean " + " or ".join(names) + "?"


def _as_of(ref: ServiceReference) -> str:
    """Which snapshot said so: an action AWS added after it is not in it."""
    source = ref.source
    return f" (service reference: {source['package']} {source['version']}, {source['refreshed']})"


@dataclass
class _Actions:
    """What a statement's Action element resolved to."""

    known: list[ActionInfo] = field(default_factory=list)
    literal: list[ActionInfo] = field(default_factory=list)
    complete: bool = True  # every value resolved (no "*", no unknown service or action)


def _strings(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]


def _check_actions(
    ref: ServiceReference, values: list[str], path: str, findings: list[Finding]
) -> _Actions:
    out = _Actions()
    for value in values:
        service_part, sep, name = value.partition(":")
        if value == "*" or not sep:
            out.complete = False
            continue
        if any(w in service_part for w in _WILD):
            out.complete = False
            if not ref.services_matching(service_part):
                findings.append(
                    Finding(
                        "error",
                        path,
                        f'"{value}": no service prefix matches "{service_part}"',
                        "unknown_service",
                        "use a service prefix from the Service Authorization Reference",
                    )
                )
            continue
        service = ref.service(service_part)
        if service is None:
            findings.append(
                Finding(
                    "error",
                    path,
                    f'"{value}": "{service_part}" is not a service prefix{_as_of(ref)}',
                    "unknown_service",
                    _did_you_mean(ref.closest_services(service_part))
                    or "use a service prefix from the Service Authorization Reference",
                )
            )
            out.complete = False
            continue
        if any(w in name for w in _WILD):
            matched = service.actions_matching(name)
            if not matched:
                findings.append(
                    Finding(
                        "error",
                        path,
                        f'"{value}" matches no action of {service.prefix} ({service.name})'
                        f"{_as_of(ref)}",
                        "unknown_action",
                        _did_you_mean(
                            [f"{service.prefix}:{n}" for n in service.closest_actions(name)]
                        )
                        or f"list the actions of {service.prefix} in the reference",
                    )
                )
                out.complete = False
            out.known.extend(matched)
            continue
        action = service.action(name)
        if action is None:
            findings.append(
                Finding(
                    "error",
                    path,
                    f'"{value}" is not an action of {service.prefix} ({service.name}){_as_of(ref)}',
                    "unknown_action",
                    _did_you_mean([f"{service.prefix}:{n}" for n in service.closest_actions(name)])
                    or f"list the actions of {service.prefix} in the reference",
                )
            )
            out.complete = False
            continue
        out.known.append(action)
        out.literal.append(action)
    return out


def _formats(ref: ServiceReference, action: ActionInfo) -> list[tuple[str, str]]:
    service = ref.service(action.service)
    if service is None:
        return []
    return [
        (name, service.resources[name].arn_format)
        for name, _ in action.resource_types
        if name in service.resources
    ]


def _check_resources(
    ref: ServiceReference,
    actions: _Actions,
    values: list[str],
    path: str,
    findings: list[Finding],
) -> None:
    if not actions.known:
        return
    star = "*" in values
    specific = [v for v in values if v != "*"]
    matched_any: set[str] = set()
    for value in specific:
        fits = [
            a
            for a in actions.known
            if any(pattern_fits_format(value, fmt) for _, fmt in _formats(ref, a))
        ]
        if fits:
            matched_any.add(value)
        elif actions.complete and any(a.resource_types for a in actions.known):
            # (actions that take only "*" get their own finding below)
            types = list(
                dict.fromkeys(
                    f"{name} ({fmt})" for a in actions.known for name, fmt in _formats(ref, a)
                )
            )
            findings.append(
                Finding(
                    "warning",
                    path,
                    f'"{value}" matches no resource type of the statement\'s actions, so it '
                    "grants or denies nothing",
                    "resource_matches_no_type",
                    ("use an ARN of a type they act on: " + "; ".join(types[:4]))
                    if types
                    else 'these actions take only "Resource": "*"',
                )
            )
    if star:
        return
    for action in dict.fromkeys(actions.literal):
        formats = _formats(ref, action)
        if not action.resource_types:
            findings.append(
                Finding(
                    "warning",
                    path,
                    f"{action.full_name} does not support resource-level permissions: only "
                    '"Resource": "*" covers it, so this statement never applies to it',
                    "action_needs_resource_star",
                    f'move {action.full_name} to a statement with "Resource": "*"',
                )
            )
        elif matched_any and not any(
            pattern_fits_format(v, fmt) for v in specific for _, fmt in formats
        ):
            shown = "; ".join(f"{name} ({fmt})" for name, fmt in formats[:4])
            findings.append(
                Finding(
                    "warning",
                    path,
                    f"no Resource value is a resource {action.full_name} acts on, so the "
                    "statement never applies to it",
                    "action_matches_no_resource",
                    f"add an ARN of its resource types: {shown}",
                )
            )


def _supports(actions: list[ActionInfo], key: str) -> bool:
    return any(
        key_template_pattern(template).fullmatch(key)
        for action in actions
        for template in action.condition_keys
    )


def _check_condition_key(
    ref: ServiceReference, actions: _Actions, key: str, path: str, findings: list[Finding]
) -> None:
    prefix = key.partition(":")[0].lower()
    lowered = key.lower()
    if prefix == "aws":
        if not is_global_key(key):
            findings.append(
                Finding(
                    "error",
                    path,
                    f'"{key}" is not a global condition key: requests never carry it',
                    "unknown_global_condition_key",
                    _did_you_mean(closest_global_keys(key))
                    or "use a key from AWS global condition context keys",
                )
            )
            return
        if not lowered.startswith(_PER_ACTION_GLOBAL):
            return
    elif is_global_key(key):
        return
    else:
        service = ref.service(prefix)
        if service is None:
            return  # an identity provider's keys (saml:, an OIDC host): not in the reference
        if service.condition_type(key) is None:
            close = difflib.get_close_matches(
                lowered, [k.lower() for k in service.condition_keys], 3, 0.6
            )
            by_lower = {k.lower(): k for k in service.condition_keys}
            findings.append(
                Finding(
                    "error",
                    path,
                    f'"{key}" is not a condition key of {service.prefix} ({service.name})',
                    "unknown_condition_key",
                    _did_you_mean([by_lower[c] for c in close])
                    or f"use one of {service.prefix}'s condition keys",
                )
            )
            return
    if actions.complete and actions.literal and not _supports(actions.literal, key):
        listed = list(dict.fromkeys(a.full_name for a in actions.literal))
        verb = "does" if len(listed) == 1 else "do"
        findings.append(
            Finding(
                "warning",
                path,
                f"{', '.join(listed)} {verb} not support {key}: its requests never carry it",
                "condition_key_not_supported",
                "remove the condition or use a key the action supports (Service Authorization "
                "Reference, the action's condition keys)",
            )
        )


def _check_statement(
    ref: ServiceReference, raw: Mapping[str, object], path: str, kind: PolicyKind
) -> list[Finding]:
    findings: list[Finding] = []
    actions = _Actions(complete=False)
    for element in ("Action", "NotAction"):
        if element in raw:
            resolved = _check_actions(ref, _strings(raw[element]), f"{path}.{element}", findings)
            if element == "Action":
                actions = resolved
    if "Resource" in raw and "Action" in raw and kind != "trust":
        _check_resources(ref, actions, _strings(raw["Resource"]), f"{path}.Resource", findings)
    condition = raw.get("Condition")
    if isinstance(condition, Mapping):
        for operator, tests in condition.items():
            if isinstance(tests, Mapping):
                for key in tests:
                    if isinstance(key, str):
                        key_path = f"{path}.Condition.{operator}.{key}"
                        _check_condition_key(ref, actions, key, key_path, findings)
    return findings


def reference_findings(data: object, kind: PolicyKind) -> list[Finding]:
    """The reference's findings for a policy document (already JSON-decoded), in order."""
    if not isinstance(data, Mapping) or "Statement" not in data:
        return []
    ref = service_reference()
    raw_statements = data["Statement"]
    as_list = isinstance(raw_statements, list)
    findings: list[Finding] = []
    for index, raw in enumerate(raw_statements if as_list else [raw_statements]):
        if isinstance(raw, Mapping):
            path = f"Statement[{index}]" if as_list else "Statement"
            findings.extend(_check_statement(ref, raw, path, kind))
    return findings
