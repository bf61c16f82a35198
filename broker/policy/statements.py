"""One policy statement (IAM User Guide, "IAM JSON policy element reference": Sid, Effect,
Principal/NotPrincipal, Action/NotAction, Resource/NotResource, Condition): its checks, with
JSON paths, and its compiled form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from broker.policy.conditions import ConditionTest, compile_conditions
from broker.policy.findings import Finding, PolicyKind
from broker.policy.lint import lint_statement
from broker.policy.matching import (
    MatcherSet,
    action_matcher_set,
    is_valid_arn_pattern,
    resource_matcher_set,
    service_of,
)
from broker.policy.principals import PrincipalSpec, parse_principal
from broker.policy.variables import Template, TemplateSyntaxError, Var, parse_template

__all__ = ["Statement", "parse_statement"]

_STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_ACTION = re.compile(r"^[A-Za-z0-9*?-]+:[A-Za-z0-9*?_-]+$")
_SID = re.compile(r"^[A-Za-z0-9]*$")
_PRINCIPAL_KINDS = frozenset({"resource", "trust", "key", "rcp"})


@dataclass(frozen=True, slots=True)
class Statement:
    """One compiled statement. ``resources`` is None where the element is absent (trust)."""

    index: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    not_action: bool
    actions: MatcherSet
    action_values: tuple[str, ...]
    services: tuple[str, ...] | None  # literal service prefixes; None: may match any service
    not_resource: bool
    resources: MatcherSet | None
    resource_values: tuple[str, ...]
    not_principal: bool
    principal: PrincipalSpec | None
    conditions: tuple[ConditionTest, ...]
    variable_keys: tuple[str, ...]  # policy-variable keys (without default) it refers to
    # Keys that must have one value for the statement to apply: only an Allow's NotResource
    # variables (see ``_required_keys``); everywhere else a missing value matches nothing.
    required_keys: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        """A compact description for explanations."""
        return {"index": self.index, "sid": self.sid, "effect": self.effect}


def _string_list(
    value: object, path: str, findings: list[Finding], what: str
) -> tuple[str, ...] | None:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        findings.append(
            Finding(
                "error",
                path,
                f"{what} must be a non-empty string or list of strings",
                "invalid_type",
            )
        )
        return None
    return tuple(values)


def _templates(
    values: tuple[str, ...], path: str, substitute: bool, findings: list[Finding]
) -> list[Template]:
    out: list[Template] = []
    for value in values:
        if not is_valid_arn_pattern(value):
            findings.append(
                Finding(
                    "error",
                    path,
                    f'"{value}" is not "*" or an ARN with six parts (arn:partition:service:'
                    "region:account:resource)",
                    "invalid_resource",
                )
            )
            continue
        try:
            template = parse_template(value, substitute=substitute)
        except TemplateSyntaxError as exc:
            findings.append(Finding("error", path, str(exc), "invalid_variable"))
            continue
        if _variable_before_resource_part(template):
            findings.append(
                Finding(
                    "error",
                    path,
                    f'"{value}": a policy variable may stand only in the resource part of an ARN '
                    "(after the fifth colon), not in its partition, service, region or account; "
                    "write those literally or with wildcards",
                    "invalid_variable",
                )
            )
            continue
        out.append(template)
    return out


def _no_short_patterns(values: tuple[str, ...], path: str, findings: list[Finding]) -> None:
    """RCPs take full ARNs only. The docs say how a short pattern (``arn:aws:sqs:*``) reads in
    IAM policies, not in RCPs, and a guess in a control policy that binds every caller could
    open or close too much: fail closed and ask for the six parts (wildcards allowed)."""
    for value in values:
        if value != "*" and value.count(":") < 5:
            findings.append(
                Finding(
                    "error",
                    path,
                    f'"{value}": an RCP needs the full six-part ARN (arn:partition:service:region:'
                    'account:resource, "*" in any part)',
                    "invalid_resource",
                )
            )


def _required_keys(templates: list[Template]) -> tuple[str, ...]:
    """The variable keys of an Allow's NotResource. IAM User Guide, "Policy variables with no
    value": the entry holding a variable with no value matches nothing. In a NotResource that
    would make the entry exclude nothing, so an unset tag would widen an Allow to every other
    resource; we fail closed instead and the Allow does not apply. (A Deny's NotResource keeps
    the literal rule: it then denies more, never less.)"""
    return tuple(dict.fromkeys(k for t in templates for k in t.required))


def _variable_before_resource_part(template: Template) -> bool:
    """IAM User Guide, "IAM policy elements: Variables and tags" (Where you can use policy
    variables): in the Resource element a variable may be used only in the resource part of the
    ARN, after the fifth colon. Substituting one earlier would match what IAM does not."""
    colons = 0
    for piece in template.pieces:
        if isinstance(piece, Var):
            if colons < 5:
                return True
        elif isinstance(piece, str):
            colons += piece.count(":")
        else:
            colons += piece.text.count(":")
    return False


def parse_statement(
    raw: object, index: int, path: str, kind: PolicyKind, substitute: bool, findings: list[Finding]
) -> Statement | None:
    if not isinstance(raw, Mapping):
        findings.append(Finding("error", path, "a statement must be an object", "invalid_type"))
        return None
    errors_before = sum(f.severity == "error" for f in findings)
    for key in raw:
        if key not in _STATEMENT_KEYS:
            findings.append(
                Finding(
                    "error", f"{path}.{key}", f'unknown statement element "{key}"', "unknown_key"
                )
            )
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        findings.append(Finding("error", f"{path}.Sid", "Sid must be a string", "invalid_sid"))
    elif isinstance(sid, str) and kind not in ("resource", "key") and not _SID.match(sid):
        # IAM's own documents take letters and digits only; services' resource policies
        # (S3, KMS, SQS...) accept any string.
        findings.append(
            Finding("error", f"{path}.Sid", "Sid must be letters and digits only", "invalid_sid")
        )
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        findings.append(
            Finding("error", f"{path}.Effect", 'Effect must be "Allow" or "Deny"', "invalid_effect")
        )

    def one_of(a: str, b: str, required: bool) -> str | None:
        if a in raw and b in raw:
            findings.append(
                Finding("error", path, f"use {a} or {b}, not both", "conflicting_elements")
            )
            return None
        if a in raw or b in raw:
            return a if a in raw else b
        if required:
            findings.append(Finding("error", path, f"missing {a} (or {b})", "missing_element"))
        return None

    action_key = one_of("Action", "NotAction", True)
    if action_key == "NotAction" and kind == "rcp":
        # AWS Organizations User Guide, "RCP syntax": RCPs do not support NotAction.
        findings.append(
            Finding(
                "error",
                f"{path}.NotAction",
                "NotAction is not allowed in an RCP; list the actions to deny in Action",
                "prohibited_element",
            )
        )
    action_values: tuple[str, ...] = ()
    if action_key:
        action_path = f"{path}.{action_key}"
        listed = _string_list(raw[action_key], action_path, findings, action_key)
        if listed is not None:
            action_values = listed
            for value in listed:
                if value != "*" and not _ACTION.match(value):
                    findings.append(
                        Finding(
                            "error",
                            action_path,
                            f'"{value}" is not an action: use "service:Action" or "*"',
                            "invalid_action",
                        )
                    )

    resource_key = one_of("Resource", "NotResource", kind != "trust")
    resource_values: tuple[str, ...] = ()
    templates: list[Template] = []
    if resource_key and kind == "trust":
        findings.append(
            Finding(
                "error",
                f"{path}.{resource_key}",
                f"a trust policy has no {resource_key}: the role it is attached to is the resource",
                "prohibited_element",
            )
        )
    elif resource_key:
        resource_path = f"{path}.{resource_key}"
        listed = _string_list(raw[resource_key], resource_path, findings, resource_key)
        if listed is not None:
            resource_values = listed
            templates = _templates(listed, resource_path, substitute, findings)
            if kind == "rcp":
                _no_short_patterns(listed, resource_path, findings)

    principal_key = one_of("Principal", "NotPrincipal", kind in _PRINCIPAL_KINDS)
    principal: PrincipalSpec | None = None
    if principal_key and kind not in _PRINCIPAL_KINDS:
        findings.append(
            Finding(
                "error",
                f"{path}.{principal_key}",
                f"{principal_key} is not allowed in a {kind} policy (only in resource, trust, key "
                "policies and RCPs)",
                "prohibited_element",
            )
        )
    elif principal_key == "NotPrincipal" and kind in ("trust", "rcp"):
        what = "a role trust policy" if kind == "trust" else "an RCP"
        findings.append(
            Finding(
                "error",
                f"{path}.NotPrincipal",
                f"NotPrincipal is not allowed in {what}; use Principal (and conditions on "
                "aws:PrincipalArn)",
                "prohibited_element",
            )
        )
    elif kind == "rcp" and raw.get("Principal") != "*":
        findings.append(
            Finding(
                "error",
                f"{path}.Principal",
                'an RCP applies to every principal: Principal must be "*" (narrow it with '
                "conditions)",
                "invalid_principal",
            )
        )
    elif principal_key:
        principal = parse_principal(
            raw[principal_key], path=f"{path}.{principal_key}", findings=findings
        )

    conditions: tuple[ConditionTest, ...] = ()
    if "Condition" in raw:
        conditions = compile_conditions(
            raw["Condition"], path=f"{path}.Condition", substitute=substitute, findings=findings
        )
    if sum(f.severity == "error" for f in findings) > errors_before:
        return None
    lowered = tuple(a.lower() for a in action_values)
    services = tuple(service_of(a) or "" for a in lowered)
    variable_keys = tuple(
        dict.fromkeys(
            [k for t in templates for k in t.required]
            + [
                k
                for c in conditions
                for v in c.values
                if c.base.startswith(("String", "Arn")) and substitute
                for k in parse_template(v, substitute=True).required
            ]
        )
    )
    not_resource = resource_key == "NotResource"
    statement = Statement(
        index=index,
        sid=sid if isinstance(sid, str) else None,
        effect="Allow" if effect == "Allow" else "Deny",
        not_action=action_key == "NotAction",
        actions=action_matcher_set(lowered),
        action_values=action_values,
        services=None if action_key == "NotAction" or "" in services else services,
        not_resource=not_resource,
        resources=resource_matcher_set(templates) if resource_key and kind != "trust" else None,
        resource_values=resource_values,
        not_principal=principal_key == "NotPrincipal",
        principal=principal,
        conditions=conditions,
        variable_keys=variable_keys,
        required_keys=_required_keys(templates) if not_resource and effect == "Allow" else (),
    )
    lint_statement(raw, statement, path, kind, findings)
    return statement
