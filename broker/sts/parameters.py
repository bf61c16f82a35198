"""STS's rules for request values: names, external ids, tags, session policies, packed size.

The operations apply these to their typed requests (``broker.sts.requests``), whoever built
them; reading the values out of Query API parameters is ``broker.sts.query_form``'s job.

Validation messages follow STS's "1 validation error detected: Value ... at '...' failed to
satisfy constraint: ..." form; malformed policy JSON is ``MalformedPolicyDocument``; policies
and tags too large once packed are ``PackedPolicyTooLarge``.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from broker.errors import StsError

__all__ = [
    "MAX_TAGS",
    "SessionExtras",
    "check_external_id",
    "check_extras",
    "check_name",
    "constraint_error",
    "field_name",
    "null_error",
    "packed_size_percent",
]

# AWS's patterns, where ``\w`` is ASCII only ([A-Za-z0-9_]): without ``re.ASCII`` Python's
# ``\w`` takes any Unicode letter, so a Cyrillic "а" would make a look-alike "admin" session.
# ``fullmatch``, not ``^...$``: ``$`` also matches before a trailing newline.
_NAME_RE = re.compile(r"[\w+=,.@-]+", re.ASCII)
_EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]+", re.ASCII)
_PACKED_LIMIT = 2048
_MAX_POLICY_CHARS = 2048
MAX_TAGS = 50


def constraint_error(value: str, field: str, constraint: str) -> StsError:
    """STS's ``ValidationError`` for ``value`` at ``field`` (the camelCase parameter name)."""
    return StsError(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}",
        code="ValidationError",
    )


def check_token_length(value: str, field: str, maximum: int) -> str:
    """A web identity token's or SAML assertion's length, 4 to ``maximum`` characters; the
    refusal names the parameter but never echoes the value (it is a credential)."""
    if not 4 <= len(value) <= maximum:
        raise StsError(
            f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
            f"Member must have length between 4 and {maximum}",
            code="ValidationError",
        )
    return value


def field_name(name: str) -> str:
    """The Query API parameter's name as STS's messages write it: ``roleSessionName``."""
    return name[0].lower() + name[1:]


def null_error(name: str) -> StsError:
    """STS's refusal of a missing required parameter."""
    return StsError(
        f"1 validation error detected: Value null at '{field_name(name)}' failed to satisfy "
        "constraint: Member must not be null",
        code="ValidationError",
    )


def check_name(value: str | None, name: str, low: int, high: int) -> str:
    """A required name (RoleSessionName, Name, SourceIdentity) with STS's length and pattern
    rules; ``name`` is the parameter's Query API name."""
    if value is None:
        raise null_error(name)
    field = field_name(name)
    if not low <= len(value) <= high:
        raise constraint_error(value, field, f"Member must have length between {low} and {high}")
    if not _NAME_RE.fullmatch(value):
        raise constraint_error(
            value, field, "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )
    return value


def check_external_id(value: str | None) -> str | None:
    """AssumeRole's optional ``ExternalId``: 2-1224 characters of ``[\\w+=,.@:/-]`` (ASCII)."""
    if value is not None and not (2 <= len(value) <= 1224 and _EXTERNAL_ID_RE.fullmatch(value)):
        raise constraint_error(
            value,
            "externalId",
            "Member must have length between 2 and 1224 and satisfy regular expression "
            "pattern: [\\w+=,.@:\\/-]*",
        )
    return value


@dataclass(frozen=True)
class SessionExtras:
    """Session policy, policy ARNs, tags and transitive tag keys of one request."""

    policy: str | None
    policy_arns: tuple[str, ...]
    tags: dict[str, str]
    transitive_tag_keys: tuple[str, ...]
    packed_percent: int


def packed_size_percent(policy: str | None, arns: tuple[str, ...], tags: Mapping[str, str]) -> int:
    """How much of the packed space the session policy, ARNs and tags use (as STS reports)."""
    if policy is None and not arns and not tags:
        return _EMPTY_PERCENT
    return _packed_percent(policy, arns, tags)


def _packed_percent(policy: str | None, arns: tuple[str, ...], tags: Mapping[str, str]) -> int:
    packed = json.dumps([policy, list(arns), sorted(tags.items())], separators=(",", ":"))
    return math.ceil(len(zlib.compress(packed.encode(), 9)) * 100 / _PACKED_LIMIT)


_EMPTY_PERCENT = _packed_percent(None, (), {})  # the common case, worked out once


def check_extras(
    policy: str | None,
    policy_arns: tuple[str, ...],
    tags: Sequence[tuple[str, str]],
    transitive_tag_keys: tuple[str, ...],
) -> SessionExtras:
    """Check ``Policy``, ``Tags`` and ``TransitiveTagKeys`` and the packed size they take
    with ``PolicyArns`` (whose own rules are ``managed_policies.check_policy_arns``)."""
    if policy is not None:
        if len(policy) > _MAX_POLICY_CHARS:
            raise constraint_error(
                "...",
                "policy",
                f"Member must have length less than or equal to {_MAX_POLICY_CHARS}",
            )
        try:
            document = json.loads(policy)
        except json.JSONDecodeError:
            raise StsError(
                "The policy is not in the valid JSON format.", code="MalformedPolicyDocument"
            ) from None
        if not isinstance(document, dict) or "Statement" not in document:
            raise StsError(
                "Syntax errors in policy: the document needs a Statement.",
                code="MalformedPolicyDocument",
            )
    if len(tags) > MAX_TAGS:
        raise constraint_error(
            "[...]", "tags", f"Member must have length less than or equal to {MAX_TAGS}"
        )
    checked: dict[str, str] = {}
    for index, (key, value) in enumerate(tags, 1):
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise constraint_error(
                key, f"tags.{index}.member.key", "Member must have length between 1 and 128"
            )
        if key.lower() in (k.lower() for k in checked):
            raise StsError(f"Duplicate tag keys found: {key}", code="InvalidParameterValue")
        checked[key] = value
    unknown = [key for key in transitive_tag_keys if key not in checked]
    if unknown:
        raise StsError(
            "The specified transitive tag key must be included in the requested tags: "
            f"{unknown[0]}",
            code="InvalidParameterValue",
        )
    percent = packed_size_percent(policy, policy_arns, checked)
    if percent > 100:
        raise StsError(
            f"Packed policy consumes {percent}% of allotted space, please use smaller policy "
            "for the session.",
            code="PackedPolicyTooLarge",
        )
    return SessionExtras(policy, policy_arns, checked, transitive_tag_keys, percent)
