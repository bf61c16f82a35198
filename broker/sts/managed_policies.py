"""Managed session policies (``PolicyArns``) and the session policy a session keeps.

STS lets a caller pass up to 10 managed policy ARNs besides the inline ``Policy``; together
they are the session's session policies, and the session may do only what they allow within
the role's (or the federated user's) own permissions. Each ARN must name a policy that exists:
``arn:aws:iam::aws:policy/NAME`` an AWS managed policy — ``AWSDenyAll`` ships with the broker,
others are the documents the directory declares as AWS managed (permission sets'
``managed_policies``) — or ``arn:aws:iam::ACCT:policy/NAME`` a customer managed policy of the
session's own account (``PrincipalSource.managed_policy``). An unknown ARN is refused, never
skipped.

A session keeps one text under one digest (``session_policies``): without managed policies the
inline policy as sent; with them a bundle (``{"SessionPolicies": [...]}``, a key no policy
document may have) holding the inline document and a copy of each managed document, so the
session is bound by the documents as they were when it was minted. ``load_session_policy``
turns either back into one ``Policy`` whose statements are all of theirs: the engine's session
layer allows what any of them allows and denies what any of them denies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from broker.errors import PolicyError, StsError
from broker.policy import Policy, parse_policy
from broker.sts.principals import PrincipalSource
from broker.sts.session_policies import SessionPolicySource

__all__ = [
    "AWS_MANAGED",
    "MAX_POLICY_ARNS",
    "SessionPolicies",
    "check_policy_arns",
    "load_session_policy",
    "resolve_session_policies",
]

MAX_POLICY_ARNS = 10
UNKNOWN_POLICY_CODE = "MalformedPolicyDocument"
_BUNDLE_KEY = "SessionPolicies"
_POLICY_ARN_RE = re.compile(
    r"^arn:aws:iam::(aws|\d{12}):policy/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,128})$"
)

# AWS managed policies the broker ships itself (the directory may declare others).
AWS_MANAGED: Mapping[str, Mapping[str, Any]] = {
    "AWSDenyAll": {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "DenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"}],
    },
}


def _validation(value: str, field: str, constraint: str) -> StsError:
    return StsError(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}",
        code="ValidationError",
    )


def check_policy_arns(arns: Sequence[str]) -> tuple[str, ...]:
    """At most 10 policy ARNs, each 20–2048 characters; a member beyond the tenth is refused,
    not ignored."""
    if len(arns) > MAX_POLICY_ARNS:
        raise _validation(
            "[...]",
            "policyArns",
            f"Member must have length less than or equal to {MAX_POLICY_ARNS}",
        )
    for position, arn in enumerate(arns, 1):
        if not 20 <= len(arn) <= 2048:
            raise _validation(
                arn,
                f"policyArns.{position}.member.arn",
                "Member must have length between 20 and 2048",
            )
    return tuple(arns)


def _unknown(arn: str) -> StsError:
    return StsError(
        f"The policy {arn} does not exist or is not attachable; pass the ARN of a managed "
        "policy of the session's account or an AWS managed policy the broker knows.",
        code=UNKNOWN_POLICY_CODE,
    )


def _resolve(arn: str, account: str, source: PrincipalSource) -> Mapping[str, Any]:
    match = _POLICY_ARN_RE.match(arn)
    if match is None:
        raise _unknown(arn)
    owner, name = match[1], match[3]
    if owner == "aws" and name in AWS_MANAGED and not match[2]:
        return AWS_MANAGED[name]
    if owner not in ("aws", account):
        raise _unknown(arn)  # a customer managed policy of another account
    document = source.managed_policy(owner, name)
    if document is None:
        raise _unknown(arn)
    return document


@dataclass(frozen=True)
class SessionPolicies:
    """The session policies of one request, resolved: the text the session keeps, or ``None``."""

    text: str | None

    @property
    def present(self) -> bool:
        return self.text is not None


def resolve_session_policies(
    inline: str | None,
    arns: Sequence[str],
    account: str,
    source: PrincipalSource,
    store: SessionPolicySource | None,
) -> SessionPolicies:
    """Check the inline policy with the engine, resolve every ARN in ``account``, store the
    result (``MalformedPolicyDocument`` for a bad document or an unknown ARN)."""
    documents: list[Any] = []
    if inline is not None:
        _parse(inline, "Policy")
        documents.append(json.loads(inline))
    for arn in arns:
        document = _resolve(arn, account, source)
        _parse(dict(document), arn)
        documents.append(document)
    if not arns:
        text = inline
    else:
        text = json.dumps({_BUNDLE_KEY: documents}, separators=(",", ":"), sort_keys=True)
    if text is not None and store is not None:
        store.put(text)
    return SessionPolicies(text)


def _parse(document: Mapping[str, Any] | str, name: str) -> Policy:
    try:
        return parse_policy(document, kind="session", name=name)
    except PolicyError as exc:
        raise StsError(str(exc), code="MalformedPolicyDocument") from None


def load_session_policy(store: SessionPolicySource, digest: str) -> Policy:
    """A session's session policy back from its digest: one policy with every statement."""
    text = store.get(digest)
    data = json.loads(text)
    if not (isinstance(data, dict) and _BUNDLE_KEY in data):
        return parse_policy(text, kind="session")
    parsed = [
        parse_policy(document, kind="session", name=f"session policy {index}")
        for index, document in enumerate(data[_BUNDLE_KEY])
    ]
    statements = tuple(s for policy in parsed for s in policy.statements)
    return Policy("session", parsed[0].version, None, statements, name="session policies")
