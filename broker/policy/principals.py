"""The Principal and NotPrincipal elements (IAM User Guide, "AWS JSON policy elements:
Principal" and "NotPrincipal"), and who a request's caller is.

A caller is seen through several identities at once: its account, and its own ARN(s). A role
session is ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`` and also the role
``arn:aws:iam::ACCOUNT:role/PATH/ROLE`` (taken from the context key ``aws:PrincipalArn`` when
given, since a session ARN carries no path). Naming any of them in ``Principal`` matches; *which*
one matched matters to evaluation (a grant to a role session is not bounded like a grant to the
role, a grant to the account only delegates to the account's own policies), so matching returns
the kind of grant. A federated-user session (GetFederationToken) is likewise seen as the IAM
user that created it, when the request says which (``Request.federated_by``).

``NotPrincipal`` applies unless *every* identity of the caller is listed: to exempt a role
session, list the account, the role and the session (the doc's own example). Principals carry no
wildcards except ``"*"`` on its own (``{"AWS": "*"}`` means the same).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from broker.policy.findings import Finding

__all__ = [
    "IAM_CALLER_KINDS",
    "Caller",
    "GrantKind",
    "PrincipalSpec",
    "caller_of",
    "parse_principal",
]

GrantKind = Literal[
    "wildcard",
    "account",
    "user",
    "role",
    "session",
    "federated_user",
    "federating_user",
    "external",
]
CallerKind = Literal[
    "root", "user", "role", "role_session", "federated_user", "external", "anonymous"
]

IAM_CALLER_KINDS: frozenset[CallerKind] = frozenset(
    {"root", "user", "role", "role_session", "federated_user"}
)
"""Callers that are IAM principals of an account (their ARN names the account)."""

_ACCOUNT = re.compile(r"^\d{12}$")
_UNIQUE_ID = re.compile(r"^A[A-Z]{3}[A-Z0-9]{12,}$")  # AIDA..., AROA...: a deleted principal
_IAM_ARN = re.compile(r"^arn:([\w-]+):(iam|sts)::(\d{12}):(.+)$")
PRINCIPAL_TYPES = ("AWS", "Federated", "Service", "CanonicalUser")


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A normalised Principal/NotPrincipal element."""

    wildcard: bool = False
    accounts: frozenset[str] = frozenset()
    arns: frozenset[str] = frozenset()
    external: frozenset[str] = frozenset()  # Service, Federated and CanonicalUser names

    def to_json(self) -> object:
        if self.wildcard:
            return "*"
        return {
            "accounts": sorted(self.accounts),
            "arns": sorted(self.arns),
            "external": sorted(self.external),
        }


@dataclass(frozen=True, slots=True)
class Caller:
    """Who made the request, as the identities policies can name."""

    kind: CallerKind
    account: str
    arn: str
    parent_arn: str | None  # a role session's role; the IAM user behind a federated user

    def grant_kind(self, spec: PrincipalSpec) -> GrantKind | None:
        """The most specific way ``spec`` names this caller, or None."""
        if spec.wildcard:
            return "wildcard"
        if self.kind in ("external", "anonymous"):
            return "external" if self.arn in spec.external else None
        if self.arn in spec.arns:
            if self.kind == "role_session":
                return "session"
            if self.kind == "federated_user":
                return "federated_user"
            return "role" if self.kind == "role" else "user"
        if self.parent_arn is not None and self.parent_arn in spec.arns:
            return "role" if self.kind == "role_session" else "federating_user"
        if self.account in spec.accounts:
            return "account"
        return None

    def all_listed(self, spec: PrincipalSpec) -> bool:
        """Whether every identity of the caller is listed (NotPrincipal's exemption)."""
        if spec.wildcard:
            return True
        if self.kind in ("external", "anonymous"):
            return self.arn in spec.external
        if self.account not in spec.accounts or self.arn not in spec.arns:
            return False
        return self.parent_arn is None or self.parent_arn in spec.arns


def caller_of(
    principal_arn: str,
    principal_account: str,
    role_arn: str | None,
    federated_by: str | None = None,
) -> Caller:
    """Classify the request's principal ARN (IAM User Guide, "IAM identifiers").

    ``role_arn``: a role session's role ARN with its path (``aws:PrincipalArn``), used only
    when its partition, account and role name are the session's;
    ``federated_by``: the IAM user that created a federated-user session (of its account).
    """
    match = _IAM_ARN.match(principal_arn)
    if match is None:
        kind: CallerKind = "anonymous" if principal_arn in ("", "anonymous") else "external"
        return Caller(kind, principal_account, principal_arn, None)
    partition, service, account, rest = match.groups()
    if service == "iam" and rest == "root":
        return Caller("root", account, principal_arn, None)
    if service == "iam" and rest.startswith("user/"):
        return Caller("user", account, principal_arn, None)
    if service == "iam" and rest.startswith("role/"):
        return Caller("role", account, principal_arn, None)
    if service == "sts" and rest.startswith("assumed-role/"):
        role_name = rest.split("/")[1] if rest.count("/") >= 2 else ""
        derived = f"arn:{partition}:iam::{account}:role/{role_name}"
        # ``role_arn`` may only add the path the session ARN lacks: the same partition,
        # account and role name, or it is ignored (it must not make the session another role).
        prefix = f"arn:{partition}:iam::{account}:role/"
        given = role_arn if role_arn is not None and role_arn.startswith(prefix) else None
        if given is None or given.rsplit("/", 1)[-1] != role_name:
            given = None
        return Caller("role_session", account, principal_arn, given or derived)
    if service == "sts" and rest.startswith("federated-user/"):
        # The IAM user behind it is in the same partition and account, or it is ignored.
        user_prefix = f"arn:{partition}:iam::{account}:user/"
        own = federated_by if federated_by and federated_by.startswith(user_prefix) else None
        return Caller("federated_user", account, principal_arn, own)
    return Caller("external", account, principal_arn, None)


def parse_principal(element: object, *, path: str, findings: list[Finding]) -> PrincipalSpec:
    """Normalise a Principal element; every problem is appended to ``findings``."""
    if element == "*":
        return PrincipalSpec(wildcard=True)
    if not isinstance(element, Mapping) or not element:
        findings.append(
            Finding(
                "error",
                path,
                'must be "*" or an object with AWS, Federated, Service or CanonicalUser',
                "invalid_principal",
            )
        )
        return PrincipalSpec()
    accounts: set[str] = set()
    arns: set[str] = set()
    external: set[str] = set()
    wildcard = False
    for kind, raw in element.items():
        kind_path = f"{path}.{kind}"
        if kind not in PRINCIPAL_TYPES:
            findings.append(
                Finding(
                    "error",
                    kind_path,
                    f'unknown principal type "{kind}"; use one of {", ".join(PRINCIPAL_TYPES)}',
                    "invalid_principal",
                )
            )
            continue
        values = raw if isinstance(raw, list) else [raw]
        if not values or not all(isinstance(v, str) and v for v in values):
            findings.append(
                Finding("error", kind_path, "must be a string or a list of strings", "invalid_type")
            )
            continue
        for value in values:
            if value == "*" and kind == "AWS":
                wildcard = True
            elif "*" in value or "?" in value:
                findings.append(
                    Finding(
                        "error",
                        kind_path,
                        f'"{value}": principals cannot contain wildcards (only "*" on its own); '
                        "use a condition such as ArnLike on aws:PrincipalArn",
                        "principal_wildcard",
                    )
                )
            elif kind != "AWS":
                external.add(value)
            elif _ACCOUNT.match(value):
                accounts.add(value)
            elif _UNIQUE_ID.match(value):
                findings.append(
                    Finding(
                        "warning",
                        kind_path,
                        f'"{value}" is a unique ID: IAM shows one when the principal it named was '
                        "deleted; it matches nobody (a new principal with that name differs)",
                        "deleted_principal",
                    )
                )
            elif (m := _IAM_ARN.match(value)) is not None:
                if m.group(2) == "iam" and m.group(4) == "root":
                    accounts.add(m.group(3))
                else:
                    arns.add(value)
            else:
                findings.append(
                    Finding(
                        "error",
                        kind_path,
                        f'"{value}" is neither a 12-digit account id nor an IAM/STS principal ARN',
                        "invalid_principal",
                    )
                )
    if wildcard:
        return PrincipalSpec(wildcard=True)
    return PrincipalSpec(False, frozenset(accounts), frozenset(arns), frozenset(external))
