"""What the analyzer encodes, and a plain "cannot decide: uses X" for everything else.

Encoded exactly: Action/NotAction, Resource/NotResource, Principal/NotPrincipal, Allow and Deny,
and conditions with the String*, Arn*, Bool, IpAddress/NotIpAddress and Null operators (with
``...IfExists``) on the single-valued keys listed here. Not encoded: numeric, date and binary
operators, ``ForAnyValue:``/``ForAllValues:``, policy variables, and any key that may carry
several values (the solver models one value per key, which is exact only for single-valued
keys). A policy using any of those gets "cannot decide", never "no external access".

Imports nothing heavy: the command checks support before loading z3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from broker.policy import Policy
from broker.policy.conditions import ConditionTest

__all__ = ["KeyType", "Support", "check_support", "encodable"]

KeyType = Literal["string", "ip"]

# Single-valued global and STS keys (IAM User Guide, "AWS global condition context keys",
# "Available keys for AWS STS"); principal keys are bound to the caller by the encoding.
SINGLE_VALUED_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:principaltype",
        "aws:principalisawsservice",
        "aws:userid",
        "aws:username",
        "aws:sourceip",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:vpcsourceip",
        "aws:sourceaccount",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:resourceaccount",
        "aws:resourceorgid",
        "aws:securetransport",
        "aws:multifactorauthpresent",
        "aws:viaawsservice",
        "aws:requestedregion",
        "aws:referer",
        "aws:useragent",
        "aws:calledviafirst",
        "aws:calledvialast",
        "sts:externalid",
        "sts:rolesessionname",
        "sts:sourceidentity",
        "saml:aud",
        "saml:sub",
        "saml:iss",
        "saml:namequalifier",
        "saml:sub_type",
    }
)
_SINGLE_VALUED_PREFIXES = ("aws:principaltag/", "aws:requesttag/", "aws:resourcetag/")
# Web-identity keys ``<provider>:sub`` and ``:aud`` (IAM User Guide, "Available keys for AWS
# web identity federation").
_SINGLE_VALUED_SUFFIXES = (":sub", ":aud", ":oaud", ":azp")
_STRING_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Bool",
    }
)
_IP_OPERATORS = frozenset({"IpAddress", "NotIpAddress"})
_PRINCIPAL_KEYS = frozenset({"aws:principalarn", "aws:principalaccount", "aws:principalorgid"})


def single_valued(key: str) -> bool:
    return (
        key in SINGLE_VALUED_KEYS
        or key.startswith(_SINGLE_VALUED_PREFIXES)
        or (":" in key and key.endswith(_SINGLE_VALUED_SUFFIXES) and not key.startswith("aws:"))
    )


def encodable(test: ConditionTest) -> bool:
    """Whether one condition is inside the encoding (its key's type is checked apart)."""
    known = test.base == "Null" or test.base in _STRING_OPERATORS or test.base in _IP_OPERATORS
    return known and test.qualifier is None and single_valued(test.key)


@dataclass(frozen=True, slots=True)
class Support:
    """The verdict on a set of policies: the type of each condition key, or why not."""

    reasons: tuple[str, ...]
    key_types: dict[str, KeyType]

    @property
    def decidable(self) -> bool:
        return not self.reasons


def check_support(*policies: Policy) -> Support:
    """Every construct in ``policies`` the encoding does not cover, each named once."""
    reasons: list[str] = []
    types: dict[str, KeyType] = {}

    def note(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    for policy in policies:
        substitute = policy.version == "2012-10-17"
        for statement in policy.statements:
            if statement.variable_keys or (
                statement.resources is not None and statement.resources.templates
            ):
                note("policy variables")
            for test in statement.conditions:
                if test.qualifier is not None:
                    note(f"{'ForAnyValue' if test.qualifier == 'any' else 'ForAllValues'}:")
                if test.base == "Null":
                    wanted: KeyType | None = None
                elif test.base in _STRING_OPERATORS:
                    wanted = "string"
                elif test.base in _IP_OPERATORS:
                    wanted = "ip"
                else:
                    note(f"the {test.base} operator")
                    continue
                if substitute and any("${" in v for v in test.values) and wanted == "string":
                    note("policy variables")
                if not single_valued(test.key):
                    note(f"condition key {test.key_display} (may have several values)")
                    continue
                if wanted is None:
                    continue
                if wanted == "ip" and test.key in _PRINCIPAL_KEYS:
                    note(f"an IP operator on {test.key_display}")
                elif types.setdefault(test.key, wanted) != wanted:
                    note(f"condition key {test.key_display} as both an IP address and a string")
    return Support(tuple(reasons), types)
