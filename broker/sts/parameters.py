"""Reading STS Query API parameters: integers, member lists, tags, session policies.

Validation messages follow STS's "1 validation error detected: Value ... at '...' failed to
satisfy constraint: ..." form; malformed policy JSON is ``MalformedPolicyDocument``; policies
and tags too large once packed are ``PackedPolicyTooLarge``.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from broker.errors import StsError

__all__ = [
    "SessionExtras",
    "optional_int",
    "packed_size_percent",
    "read_extras",
    "require_external_id",
    "require_name",
]

# AWS's patterns, where ``\w`` is ASCII only ([A-Za-z0-9_]): without ``re.ASCII`` Python's
# ``\w`` takes any Unicode letter, so a Cyrillic "а" would make a look-alike "admin" session.
# ``fullmatch``, not ``^...$``: ``$`` also matches before a trailing newline.
_NAME_RE = re.compile(r"[\w+=,.@-]+", re.ASCII)
_EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]+", re.ASCII)
_PACKED_LIMIT = 2048
_MAX_POLICY_CHARS = 2048
_MAX_TAGS = 50


def _constraint(value: str, field: str, constraint: str) -> StsError:
    return StsError(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}",
        code="ValidationError",
    )


def optional_int(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise _constraint(raw, name[0].lower() + name[1:], "Member must be a number") from None


def require_name(params: Mapping[str, str], name: str, low: int, high: int) -> str:
    """A required name parameter (RoleSessionName, Name) with STS's length and pattern rules."""
    value = params.get(name)
    field = name[0].lower() + name[1:]
    if value is None:
        raise StsError(
            f"1 validation error detected: Value null at '{field}' failed to satisfy "
            "constraint: Member must not be null",
            code="ValidationError",
        )
    if not low <= len(value) <= high:
        raise _constraint(value, field, f"Member must have length between {low} and {high}")
    if not _NAME_RE.fullmatch(value):
        raise _constraint(
            value, field, "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )
    return value


def require_external_id(params: Mapping[str, str]) -> str | None:
    """AssumeRole's optional ``ExternalId``: 2-1224 characters of ``[\\w+=,.@:/-]`` (ASCII)."""
    value = params.get("ExternalId")
    if value is not None and not (2 <= len(value) <= 1224 and _EXTERNAL_ID_RE.fullmatch(value)):
        raise _constraint(
            value,
            "externalId",
            "Member must have length between 2 and 1224 and satisfy regular expression "
            "pattern: [\\w+=,.@:\\/-]*",
        )
    return value


def _members(params: Mapping[str, str], prefix: str) -> list[str]:
    out: list[str] = []
    for index in range(1, 1000):
        value = params.get(f"{prefix}.member.{index}")
        if value is None:
            break
        out.append(value)
    return out


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


def read_extras(params: Mapping[str, str]) -> SessionExtras:
    """Read and check ``Policy``, ``PolicyArns``, ``Tags`` and ``TransitiveTagKeys``."""
    policy = params.get("Policy")
    if policy is not None:
        if len(policy) > _MAX_POLICY_CHARS:
            raise _constraint(
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
    arns = tuple(
        params[f"PolicyArns.member.{i}.arn"]
        for i in range(1, 11)
        if f"PolicyArns.member.{i}.arn" in params
    )
    tags: dict[str, str] = {}
    for index in range(1, _MAX_TAGS + 2):
        key = params.get(f"Tags.member.{index}.Key")
        if key is None:
            break
        if index > _MAX_TAGS:
            raise _constraint(
                "[...]", "tags", f"Member must have length less than or equal to {_MAX_TAGS}"
            )
        value = params.get(f"Tags.member.{index}.Value", "")
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise _constraint(
                key, f"tags.{index}.member.key", "Member must have length between 1 and 128"
            )
        if key.lower() in (k.lower() for k in tags):
            raise StsError(f"Duplicate tag keys found: {key}", code="InvalidParameterValue")
        tags[key] = value
    transitive = tuple(_members(params, "TransitiveTagKeys"))
    unknown = [key for key in transitive if key not in tags]
    if unknown:
        raise StsError(
            "The specified transitive tag key must be included in the requested tags: "
            f"{unknown[0]}",
            code="InvalidParameterValue",
        )
    percent = packed_size_percent(policy, arns, tags)
    if percent > 100:
        raise StsError(
            f"Packed policy consumes {percent}% of allotted space, please use smaller policy "
            "for the session.",
            code="PackedPolicyTooLarge",
        )
    return SessionExtras(policy, arns, tags, transitive, percent)
