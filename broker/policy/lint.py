"""Security warnings, warnings and suggestions for valid statements (IAM Access Analyzer's
policy-check categories beyond errors).

Each check names a documented trap: ``Allow`` with ``NotPrincipal`` ("NotPrincipal" page),
``ForAllValues`` in an Allow being true for a missing key ("Single-valued vs. multivalued
context keys"), a set operator on a single-valued key or none on a multi-valued one, and
``"Principal": "*"`` without conditions on a resource or trust policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from broker.policy.findings import Finding, PolicyKind

if TYPE_CHECKING:
    from broker.policy.statements import Statement

__all__ = ["MULTI_VALUED_KEYS", "lint_statement"]

# Global condition keys AWS documents as multi-valued (lower-cased).
MULTI_VALUED_KEYS = frozenset(
    {
        "aws:tagkeys",
        "aws:principalorgpaths",
        "aws:calledvia",
        "aws:principalservicenameslist",
        "aws:sourceorgpaths",
        "aws:resourceorgpaths",
    }
)
# Global condition keys AWS documents as single-valued that people put set operators on.
SINGLE_VALUED_KEYS = frozenset(
    {
        "aws:sourceip",
        "aws:username",
        "aws:userid",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:securetransport",
        "aws:multifactorauthpresent",
        "aws:currenttime",
        "aws:epochtime",
        "aws:requestedregion",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:principaltype",
    }
)
# Global keys whose type AWS documents, and the operator families that fit each type
# ("AWS global condition context keys"; Access Analyzer's "mismatched type" check).
KEY_TYPES: dict[str, tuple[str, frozenset[str]]] = {
    **{k: ("an IP address", frozenset({"IpAddress", "NotIpAddress"})) for k in ("aws:sourceip",)},
    **{
        k: ("a date", frozenset({"Date"}))
        for k in ("aws:currenttime", "aws:epochtime", "aws:tokenissuetime")
    },
    **{
        k: ("a boolean", frozenset({"Bool"}))
        for k in (
            "aws:multifactorauthpresent",
            "aws:securetransport",
            "aws:viaawsservice",
            "aws:principalisawsservice",
        )
    },
    "aws:multifactorauthage": ("a number", frozenset({"Numeric"})),
}
_TRUST_ACTIONS = (
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
)


def lint_statement(
    raw: Mapping[str, Any],
    statement: Statement,
    path: str,
    kind: PolicyKind,
    findings: list[Finding],
) -> None:
    """Append the non-error findings for one valid statement."""
    allow = statement.effect == "Allow"
    if allow and statement.not_principal:
        findings.append(
            Finding(
                "security_warning",
                f"{path}.NotPrincipal",
                "Allow with NotPrincipal grants every principal not listed, anonymous users "
                "included; name the principals in Principal instead",
                "allow_with_not_principal",
            )
        )
    if (
        allow
        and kind in ("resource", "trust", "key")
        and statement.principal is not None
        and statement.principal.wildcard
        and not statement.not_principal
        and not statement.conditions
    ):
        what = "assume this role" if kind == "trust" else "use this resource"
        findings.append(
            Finding(
                "security_warning",
                f"{path}.Principal",
                f'"Principal": "*" without a Condition lets anyone, in any account, {what}',
                "public_principal",
            )
        )
    if allow and statement.not_action and "*" in statement.resource_values:
        findings.append(
            Finding(
                "security_warning",
                f"{path}.NotAction",
                'Allow with NotAction on "Resource": "*" grants every other action of every '
                "service, including ones added later",
                "allow_not_action",
            )
        )
    for test in statement.conditions:
        key_path = f"{path}.Condition.{test.operator}.{test.key_display}"
        if allow and test.qualifier == "all":
            findings.append(
                Finding(
                    "security_warning",
                    key_path,
                    "ForAllValues is true when the key is missing or empty, so this Allow also "
                    "applies to requests without it; add a Null check or use ForAnyValue",
                    "for_all_values_allow",
                )
            )
        if test.qualifier is not None and test.key in SINGLE_VALUED_KEYS:
            findings.append(
                Finding(
                    "warning",
                    key_path,
                    f"{test.key_display} is single-valued; drop the set operator",
                    "set_operator_on_single_valued_key",
                )
            )
        expected = KEY_TYPES.get(test.key)
        if expected is not None and test.base != "Null":
            what, families = expected
            if not any(test.base.startswith(f) or test.base == f for f in families):
                findings.append(
                    Finding(
                        "warning",
                        key_path,
                        f"{test.key_display} is {what}; {test.base} compares it as something "
                        "else (use "
                        + " or ".join(
                            sorted(f + "..." if f in ("Date", "Numeric") else f for f in families)
                        )
                        + ")",
                        "mismatched_type",
                    )
                )
        if test.qualifier is None and test.key in MULTI_VALUED_KEYS and test.base != "Null":
            findings.append(
                Finding(
                    "warning",
                    key_path,
                    f"{test.key_display} is multi-valued; say ForAnyValue: or ForAllValues:",
                    "multi_valued_key_without_set_operator",
                )
            )
    if kind == "trust" and not statement.not_action:
        for value in statement.action_values:
            lowered = value.lower()
            if lowered != "*" and not any(
                lowered == a or (lowered.endswith("*") and a.startswith(lowered[:-1]))
                for a in _TRUST_ACTIONS
            ):
                findings.append(
                    Finding(
                        "warning",
                        f"{path}.Action",
                        f'"{value}" does not apply to a role trust policy (use sts:AssumeRole, '
                        "sts:AssumeRoleWithSAML, sts:AssumeRoleWithWebIdentity, sts:TagSession)",
                        "not_a_trust_action",
                    )
                )
    for element in ("Action", "NotAction", "Resource", "NotResource"):
        values = raw.get(element)
        if isinstance(values, list):
            seen: set[str] = set()
            for value in values:
                folded = value.lower() if element.endswith("Action") else value
                if folded in seen:
                    findings.append(
                        Finding(
                            "suggestion",
                            f"{path}.{element}",
                            f'"{value}" is listed twice',
                            "duplicate_value",
                        )
                    )
                seen.add(folded)
